using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Governance;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// Finds namespaces and models by name and resolves version selectors, with the rules of DESIGN.md:
/// pending, failed and deleted versions never resolve through latest, aliases, stages or digests.
/// </summary>
public sealed class ModelLookup(RegistryDbContext db, StagePolicies policies)
{
    public static void ValidateNames(string ns, string model)
    {
        Fail.If(Names.CheckNamespace(ns), ErrorCodes.InvalidName);
        Fail.If(Names.CheckModel(model), ErrorCodes.InvalidName);
    }

    public async Task<RegistryNamespace> GetNamespaceAsync(string ns, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNamespace(ns), ErrorCodes.InvalidName);
        return await db.Namespaces.FirstOrDefaultAsync(n => n.Name == ns && n.DeletedAt == null, cancellationToken)
            ?? throw Fail.Error(ErrorCodes.NamespaceNotFound, $"Namespace '{ns}' does not exist.");
    }

    /// <summary>The model with its namespace loaded; 404 when either is missing.</summary>
    public async Task<RegisteredModel> GetModelAsync(string ns, string model, CancellationToken cancellationToken)
    {
        ValidateNames(ns, model);
        var found = await db.Models.Include(m => m.Namespace)
            .FirstOrDefaultAsync(m => m.Name == model && m.Namespace.Name == ns && m.DeletedAt == null && m.Namespace.DeletedAt == null, cancellationToken);
        if (found is not null)
        {
            return found;
        }

        if (!await db.Namespaces.AnyAsync(n => n.Name == ns && n.DeletedAt == null, cancellationToken))
        {
            throw Fail.Error(ErrorCodes.NamespaceNotFound, $"Namespace '{ns}' does not exist.");
        }

        throw Fail.Error(ErrorCodes.ModelNotFound, $"Model '{ns}/{model}' does not exist.");
    }

    public static VersionSelector ParseSelector(string selector) =>
        VersionSelector.TryParse(selector, out var parsed, out var error)
            ? parsed
            : throw Fail.Error(ErrorCodes.InvalidReference, error);

    /// <summary>
    /// Resolves a selector to a version id. <paramref name="allowAnyState"/> lets an explicit number
    /// reach a pending or failed version (for status checks and commits); deleted versions give 410.
    /// </summary>
    public async Task<long> ResolveIdAsync(RegisteredModel model, VersionSelector selector, bool allowAnyState, CancellationToken cancellationToken)
    {
        var versions = db.Versions.Where(v => v.ModelId == model.Id);
        var reference = $"{model.Namespace.Name}/{model.Name}{selector.ToReferenceSuffix()}";
        switch (selector.Kind)
        {
            case SelectorKind.Latest:
            {
                var id = await versions.Where(v => v.State == VersionState.Ready).OrderByDescending(v => v.Number).Select(v => (long?)v.Id).FirstOrDefaultAsync(cancellationToken);
                return id ?? throw Fail.Error(ErrorCodes.VersionNotFound, $"Model '{model.Namespace.Name}/{model.Name}' has no ready version yet.");
            }

            case SelectorKind.Number:
            case SelectorKind.SemanticVersion:
            {
                var number = selector.Kind == SelectorKind.Number ? selector.Number : (int?)null;
                var semver = selector.Kind == SelectorKind.SemanticVersion ? selector.Text : null;
                var row = await versions.Where(v => number != null ? v.Number == number : v.SemVer == semver)
                    .Select(v => new { v.Id, v.State }).FirstOrDefaultAsync(cancellationToken);
                return row switch
                {
                    null => throw Fail.Error(ErrorCodes.VersionNotFound, $"Version '{reference}' does not exist."),
                    { State: VersionState.Deleted } => throw Fail.Error(ErrorCodes.VersionDeleted, $"Version '{reference}' was deleted."),
                    { State: VersionState.Ready } => row.Id,
                    _ when allowAnyState => row.Id,
                    _ => throw Fail.Error(ErrorCodes.VersionNotReady, $"Version '{reference}' is {DtoMapper.StateName(row.State)}, not ready."),
                };
            }

            case SelectorKind.Digest:
            {
                // Several versions can share one content (pushed with a semantic version, or --allow-unchanged): the
                // oldest ready one answers; SameContentAsync lists the others.
                var digest = selector.Text;
                var id = await versions.Where(v => v.ManifestDigest == digest && v.State == VersionState.Ready)
                    .OrderBy(v => v.Number).Select(v => (long?)v.Id).FirstOrDefaultAsync(cancellationToken);
                return id ?? throw Fail.Error(ErrorCodes.VersionNotFound, $"No ready version of '{model.Namespace.Name}/{model.Name}' has manifest {digest}.");
            }

            default:
            {
                // Aliases and stages never share a name, so the order of these two lookups does not matter.
                var name = selector.Text;
                var aliased = await db.Aliases.Where(a => a.ModelId == model.Id && a.Name == name).Select(a => (long?)a.VersionId).FirstOrDefaultAsync(cancellationToken);
                if (aliased is { } aliasedId)
                {
                    return aliasedId;
                }

                if ((await policies.StageNamesAsync(model.NamespaceId, model.Id, cancellationToken)).Contains(name, StringComparer.Ordinal))
                {
                    var id = await versions.Where(v => v.Stage == name && v.State == VersionState.Ready)
                        .OrderByDescending(v => v.StageChangedAt).ThenByDescending(v => v.Number)
                        .Select(v => (long?)v.Id).FirstOrDefaultAsync(cancellationToken);
                    return id ?? throw Fail.Error(ErrorCodes.VersionNotFound, $"No version of '{model.Namespace.Name}/{model.Name}' is in stage '{name}'.");
                }

                throw Fail.Error(ErrorCodes.AliasNotFound, $"Model '{model.Namespace.Name}/{model.Name}' has no alias or stage named '{name}'.");
            }
        }
    }

    /// <summary>
    /// The numbers of the other ready versions of <paramref name="modelId"/> with manifest <paramref name="digest"/>,
    /// oldest first, at most <see cref="VersionInfo.MaxSameContent"/> (one query on the model/digest index).
    /// </summary>
    public async Task<IReadOnlyList<int>> SameContentAsync(long modelId, string digest, long exceptId, CancellationToken cancellationToken) =>
        await db.Versions.Where(v => v.ModelId == modelId && v.ManifestDigest == digest && v.State == VersionState.Ready && v.Id != exceptId)
            .OrderBy(v => v.Number).Select(v => v.Number).Take(VersionInfo.MaxSameContent).ToListAsync(cancellationToken);
}
