namespace Berth.Core.Filtering;

/// <summary>What a filter expression can see of one version, for evaluation in memory (gates); <c>Insight</c> for <c>metadata.*</c> and <c>scan.*</c>.</summary>
public sealed record VersionFacts(
    string Namespace,
    string Name,
    int Number,
    string? SemVer,
    string? Stage,
    IReadOnlyCollection<string> Aliases,
    DateTime CreatedAt,
    string Digest,
    long TotalSize,
    int FileCount,
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyDictionary<string, string> Params,
    IReadOnlyDictionary<string, string> Tags,
    Data.Entities.VersionInsightRecord? Insight = null,
    string? RunId = null,
    string? GitCommit = null,
    IReadOnlyList<DatasetFact>? Datasets = null,
    IReadOnlyList<ParentFact>? Parents = null);
