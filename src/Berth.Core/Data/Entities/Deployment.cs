namespace Berth.Core.Data.Entities;

/// <summary>
/// What a deployment system reported: a version is deploying, live, retired or failed in an environment. An
/// environment runs one version of a model: a version going live (or deploying) there retires the one before.
/// </summary>
public sealed class Deployment
{
    public long Id { get; set; }
    public long ModelId { get; set; }
    public RegisteredModel Model { get; set; } = null!;
    public long VersionId { get; set; }
    public ModelVersion Version { get; set; } = null!;
    public required string Environment { get; set; }
    public string? Endpoint { get; set; }
    public required string Status { get; set; }
    public DateTime At { get; set; }
    public long? ActorId { get; set; }
    public User? Actor { get; set; }
    public string? Comment { get; set; }

    /// <summary>True for the latest record of this version in this environment (what <c>show</c> reports).</summary>
    public bool Current { get; set; }
}
