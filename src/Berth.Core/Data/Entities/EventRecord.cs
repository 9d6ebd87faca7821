namespace Berth.Core.Data.Entities;

/// <summary>
/// The outbox: one row per change that committed, written in the change's own transaction. <see cref="Id"/> is
/// the global order, assigned under the <see cref="EventHead"/> row lock so that ids become visible in the order
/// they were given (a reader that saw event N will never later find an event below N).
/// </summary>
public sealed class EventRecord
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public required string Type { get; set; }
    public required string Actor { get; set; }
    public long? NamespaceId { get; set; }
    public string? Namespace { get; set; }
    public long? ModelId { get; set; }

    /// <summary><c>namespace/name</c>.</summary>
    public string? Model { get; set; }

    public int? Version { get; set; }

    /// <summary>JSON objects: the changed fields before and after, and context.</summary>
    public string? Before { get; set; }

    public string? After { get; set; }
    public string? Data { get; set; }
}

/// <summary>The last event id given (a single row). Updated with every append, which orders appenders.</summary>
public sealed class EventHead
{
    public int Id { get; set; }
    public long LastId { get; set; }
}
