namespace Berth.Core.Data.Entities;

/// <summary>A group of users that can hold namespace roles as one (also mapped from OIDC groups).</summary>
public sealed class Team
{
    public long Id { get; set; }
    public required string Name { get; set; }
    public string? Description { get; set; }

    /// <summary>The OIDC group whose members belong to this team (null: membership is managed in Berth).</summary>
    public string? ExternalGroup { get; set; }

    public DateTime CreatedAt { get; set; }
    public List<TeamMember> Members { get; set; } = [];
}
