namespace Berth.Core.Data.Entities;

/// <summary>A role in a namespace, held by a user or by a team (exactly one of the two).</summary>
public sealed class NamespaceMember
{
    public long Id { get; set; }
    public long NamespaceId { get; set; }
    public long? UserId { get; set; }
    public User? User { get; set; }
    public long? TeamId { get; set; }
    public Team? Team { get; set; }
    public NamespaceRole Role { get; set; }
    public DateTime GrantedAt { get; set; }
    public long GrantedById { get; set; }
}
