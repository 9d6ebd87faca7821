namespace Berth.Core.Filtering;

/// <summary>What a filter selects: versions (search, gates) or a model's training runs.</summary>
public enum FilterScope
{
    Versions,

    /// <summary>Runs: name, status, created (the start), metrics (the last value), params (text, or numbers when compared with one), tags.</summary>
    Runs,
}
