using Berth.Contracts.Naming;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Governance;

/// <summary>
/// Reads the stage policy in force for a model: the model's own rules if it has any, else its
/// namespace's, else the default list (development, staging, production, archived; no rules).
/// </summary>
public sealed class StagePolicies(RegistryDbContext db)
{
    public const string ArchiveStage = "archived";

    public async Task<IReadOnlyList<StageRule>> EffectiveAsync(long namespaceId, long? modelId, CancellationToken cancellationToken)
    {
        var rules = await db.StageRules.AsNoTracking()
            .Where(r => r.NamespaceId == namespaceId && (r.ModelId == null || r.ModelId == modelId))
            .OrderBy(r => r.Position).ToListAsync(cancellationToken);
        var own = modelId is null ? [] : rules.Where(r => r.ModelId == modelId).ToList();
        if (own.Count > 0)
        {
            return own;
        }

        var inherited = rules.Where(r => r.ModelId == null).ToList();
        return inherited.Count > 0 ? inherited : Defaults(namespaceId, null);
    }

    public async Task<IReadOnlyList<string>> StageNamesAsync(long namespaceId, long? modelId, CancellationToken cancellationToken) =>
        (await EffectiveAsync(namespaceId, modelId, cancellationToken)).Select(r => r.Stage).ToList();

    /// <summary>The default rules of a new namespace (or model), not yet saved.</summary>
    public static List<StageRule> Defaults(long namespaceId, long? modelId) =>
        Names.DefaultStages.Select((stage, i) => new StageRule { NamespaceId = namespaceId, ModelId = modelId, Stage = stage, Position = i }).ToList();
}
