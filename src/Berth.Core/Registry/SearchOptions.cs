namespace Berth.Core.Registry;

/// <summary>How searches decide between sorting a few matches and walking the sort's index (<see cref="SparseMatches"/>).</summary>
public sealed class SearchOptions
{
    /// <summary>
    /// A search whose matches are at most this many rows sorts them from their ids; a probe reads at most one more row
    /// than this. 1,000 keeps both the probe and the sort of a sparse search to a few milliseconds, and leaves the walk only
    /// to searches that match at least 1 row in 100 of 100,000 models, which fill a page of 25 within a few thousand rows.
    /// </summary>
    public int SparseBound { get; set; } = 1000;
}
