using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Json;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Filtering;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Governance;

/// <summary>Evaluates a stage's gate against a version and turns the outcome into records, JSON and errors.</summary>
public sealed class GateCheck(RegistryDbContext db)
{
    /// <summary>Evaluates <paramref name="gate"/> against the version as it is in the database now.</summary>
    public async Task<GateResultInfo> EvaluateAsync(string gate, long versionId, CancellationToken cancellationToken)
    {
        var v = await db.Versions.AsNoTracking()
            .Include(x => x.Model).ThenInclude(m => m.Namespace)
            .Include(x => x.Metrics).Include(x => x.Params).Include(x => x.Tags).Include(x => x.Aliases).Include(x => x.Datasets).Include(x => x.Insight)
            .Include(x => x.Parents).ThenInclude(p => p.Parent).ThenInclude(p => p.Model).ThenInclude(m => m.Namespace)
            .AsSplitQuery()
            .OrderBy(x => x.Id).SingleAsync(x => x.Id == versionId, cancellationToken);
        var facts = new VersionFacts(
            v.Model.Namespace.Name,
            v.Model.Name,
            v.Number,
            v.SemVer,
            v.Stage,
            v.Aliases.Select(a => a.Name).ToList(),
            v.CreatedAt,
            v.ManifestDigest,
            v.TotalSize,
            v.FileCount,
            v.Metrics.ToDictionary(m => m.Name, m => m.Value, StringComparer.Ordinal),
            v.Params.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal),
            v.Tags.ToDictionary(t => t.Key, t => t.Value, StringComparer.Ordinal),
            v.Insight,
            v.RunId,
            v.GitCommit,
            v.Datasets.OrderBy(d => d.Ordinal).Select(d => new DatasetFact(d.Uri, d.Digest)).ToList(),
            v.Parents.OrderBy(p => p.Ordinal).Select(p => new ParentFact(p.Parent.Model.Namespace.Name, p.Parent.Model.Name, p.Parent.Number, p.Parent.SemVer, p.Parent.ManifestDigest)).ToList());
        return ToInfo(gate, FilterEvaluator.Evaluate(FilterParser.Parse(gate), facts));
    }

    /// <summary>Throws 409 gate_failed naming the failing conditions and the actual values.</summary>
    public static void Demand(GateResultInfo result, string target)
    {
        if (!result.Passed)
        {
            throw new RegistryException(ErrorCodes.GateFailed, $"The version does not pass the gate of {target}: {result.Summary}.",
                new Dictionary<string, object?>
                {
                    ["gate"] = result.Expression,
                    ["failures"] = result.Failures.Select(f => new Dictionary<string, object?> { ["clause"] = f.Clause, ["actual"] = f.Actual }).ToList(),
                });
        }
    }

    public static string Serialize(GateResultInfo result) => JsonSerializer.Serialize(result, BerthJsonContext.Default.GateResultInfo);

    public static GateResultInfo? Deserialize(string? json) => json is null ? null : JsonSerializer.Deserialize(json, BerthJsonContext.Default.GateResultInfo);

    /// <summary>The result, naming the gate as its author wrote it.</summary>
    private static GateResultInfo ToInfo(string gate, GateResult result) => new(
        result.Passed,
        gate,
        result.Summary,
        result.Failures.Select(c => new GateClauseInfo(c.Clause, c.Actual, c.Passed)).ToList(),
        result.Checked.Select(c => new GateClauseInfo(c.Clause, c.Actual, c.Passed)).ToList());
}
