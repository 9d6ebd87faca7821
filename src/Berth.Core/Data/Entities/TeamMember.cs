namespace Berth.Core.Data.Entities;

public sealed class TeamMember
{
    public long TeamId { get; set; }
    public long UserId { get; set; }
    public User User { get; set; } = null!;
    public DateTime AddedAt { get; set; }
}
