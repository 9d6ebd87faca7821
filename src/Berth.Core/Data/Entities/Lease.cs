namespace Berth.Core.Data.Entities;

/// <summary>
/// A named piece of work that one replica at a time may do (the garbage-collection sweep). Claimed with a
/// conditional update, so of several replicas claiming at once exactly one wins; it lapses on its own when
/// its holder dies.
/// </summary>
public sealed class Lease
{
    public required string Name { get; set; }
    public string? Owner { get; set; }
    public DateTime? Until { get; set; }
}
