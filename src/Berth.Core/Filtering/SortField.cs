namespace Berth.Core.Filtering;

/// <summary>What search results can be ordered by.</summary>
public enum SortField
{
    /// <summary>When the version was declared.</summary>
    Created,

    /// <summary>The per-model version number.</summary>
    Version,

    /// <summary>The model name.</summary>
    Name,

    /// <summary>A metric; versions without it come last in either direction.</summary>
    Metric,
}
