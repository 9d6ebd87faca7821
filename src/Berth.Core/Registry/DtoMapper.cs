using Berth.Contracts.Dtos;
using Berth.Core.Data.Entities;

namespace Berth.Core.Registry;

/// <summary>Turns entities into wire records. Collections must have been loaded by the caller.</summary>
public static class DtoMapper
{
    public static DateTimeOffset Utc(DateTime value) => new(DateTime.SpecifyKind(value, DateTimeKind.Utc));

    public static DateTimeOffset? Utc(DateTime? value) => value is { } v ? Utc(v) : null;

    public static string StateName(VersionState state) => state switch
    {
        VersionState.Pending => VersionStates.Pending,
        VersionState.Ready => VersionStates.Ready,
        VersionState.Failed => VersionStates.Failed,
        _ => VersionStates.Deleted,
    };

    public static VersionInfo ToInfo(ModelVersion v, bool withFiles) => new(
        v.Model.Namespace.Name,
        v.Model.Name,
        v.Number,
        v.SemVer,
        v.ManifestDigest,
        StateName(v.State),
        v.Stage,
        Utc(v.StageChangedAt),
        v.Description,
        v.Metrics.OrderBy(m => m.Name, StringComparer.Ordinal).ToDictionary(m => m.Name, m => m.Value),
        v.Params.OrderBy(p => p.Name, StringComparer.Ordinal).ToDictionary(p => p.Name, p => p.Value),
        v.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).ToDictionary(t => t.Key, t => t.Value),
        v.Aliases.Select(a => a.Name).Order(StringComparer.Ordinal).ToList(),
        new Lineage(
            v.RunId,
            v.GitRepository,
            v.GitCommit,
            v.Datasets.OrderBy(d => d.Ordinal).Select(d => new DatasetRef(d.Uri, d.Digest)).ToList(),
            v.Parents.OrderBy(p => p.Ordinal).Select(p => $"{p.Parent.Model.Namespace.Name}/{p.Parent.Model.Name}:{p.Parent.Number}").ToList(),
            v.GitDirty),
        v.TotalSize,
        v.FileCount,
        Utc(v.CreatedAt),
        v.CreatedBy.Name,
        Utc(v.ReadyAt),
        v.Revision,
        withFiles ? v.Files.OrderBy(f => f.Path, StringComparer.Ordinal).Select(ToEntry).ToList() : null,
        v.Deployments.Where(d => d.Current && d.Status != DeploymentStatuses.Retired).OrderBy(d => d.Environment, StringComparer.Ordinal)
            .Select(d => new DeploymentState(d.Environment, d.Endpoint, d.Status, Utc(d.At))).ToList(),
        Insight: Insight.Service.InsightService.ToInfo(v.Insight),
        EvaluatedMetrics: Evaluated(v.Metrics));

    /// <summary>For each metric whose effective value an evaluation gave: that evaluation and the pushed value; null when there is none.</summary>
    private static Dictionary<string, MetricEvaluation>? Evaluated(IEnumerable<VersionMetric> metrics)
    {
        var evaluated = metrics.Where(m => m.Evaluation is not null).OrderBy(m => m.Name, StringComparer.Ordinal)
            .ToDictionary(m => m.Name, m => ToSource(m.Evaluation!, m.Pushed), StringComparer.Ordinal);
        return evaluated.Count == 0 ? null : evaluated;
    }

    private static MetricEvaluation ToSource(VersionEvaluation e, double? pushed) =>
        new(e.Id, pushed, e.Dataset, e.RunId, e.CreatedBy.Name, Utc(e.CreatedAt));

    public static EvaluationInfo ToInfo(VersionEvaluation e, string ns, string model, int number) => new(
        e.Id,
        ns,
        model,
        number,
        e.Metrics.OrderBy(m => m.Name, StringComparer.Ordinal).ToDictionary(m => m.Name, m => m.Value, StringComparer.Ordinal),
        e.Dataset,
        e.RunId,
        e.Note,
        e.CreatedBy.Name,
        Utc(e.CreatedAt));

    public static FileEntry ToEntry(VersionFile f) => new(f.Path, f.Size, f.Digest, f.MediaType);

    public static AliasInfo ToInfo(ModelAlias alias, int versionNumber) =>
        new(alias.Name, versionNumber, Utc(alias.UpdatedAt), alias.UpdatedBy.Name);

    public static HistoryEntry ToEntry(ModelHistoryEntry h) => new(
        h.Id,
        h.Kind.ToString().ToLowerInvariant(),
        h.Alias,
        h.VersionNumber,
        h.PreviousVersionNumber,
        h.FromStage,
        h.ToStage,
        h.Actor?.Name ?? "system",
        Utc(h.At),
        h.Comment,
        h.RequestId,
        h.Event);
}
