using System.Globalization;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Oci;

public sealed partial class OciRegistry
{
    /// <summary>
    /// DELETE of a manifest. By digest: a pushed manifest that is no model goes (with its tags); a version's manifest
    /// soft-deletes the version, which needs the namespace's admin role as <c>berth rm</c> does. By tag: a pushed tag
    /// goes, an alias is removed (a protected one only by an admin); numbers, semantic versions, stages and
    /// <c>latest</c> cannot be deleted (UNSUPPORTED: delete the version by digest instead).
    /// </summary>
    public async Task DeleteManifestAsync(Actor actor, OciRepositoryName repository, string reference, CancellationToken cancellationToken)
    {
        if (repository.Modelcar)
        {
            throw new OciException(OciError.Unsupported, $"Repository {repository} holds images Berth builds; delete the version from {repository.Namespace}/{repository.Model}.");
        }

        var model = await GetModelAsync(repository, cancellationToken);
        var ns = repository.Namespace;
        if (reference.Contains(':', StringComparison.Ordinal))
        {
            var key = ParseDigest(reference, OciError.DigestInvalid).ToString();
            var row = await Live(model.Id, OciRepository.Model).Where(m => m.Digest == key)
                .Select(m => new { m.Id, m.VersionId, Number = db.Versions.Where(v => v.Id == m.VersionId).Select(v => (int?)v.Number).FirstOrDefault() })
                .FirstOrDefaultAsync(cancellationToken)
                ?? throw new OciException(OciError.ManifestUnknown, $"Repository {repository} has no manifest {key}.");
            if (row.Number is { } number)
            {
                await access.DemandAsync(actor, Permission.Admin, ns, cancellationToken);
                await db.OciTags.Where(t => t.ManifestId == row.Id).ExecuteDeleteAsync(cancellationToken);
                await versions.DeleteAsync(actor, ns, repository.Model, number.ToString(CultureInfo.InvariantCulture), null, cancellationToken);
                return;
            }

            await RecordAsync("oci.manifest.delete", ns, $"{repository}@{key}", null, async ct => await db.OciManifests.Where(m => m.Id == row.Id).ExecuteDeleteAsync(ct), cancellationToken);
            return;
        }

        if (!OciNames.IsValidTag(reference))
        {
            throw new OciException(OciError.ManifestInvalid, $"'{Names.Show(reference)}' is neither a tag nor a digest.");
        }

        if (await db.Aliases.AnyAsync(a => a.ModelId == model.Id && a.Name == reference, cancellationToken))
        {
            await lifecycle.RemoveAliasAsync(actor, ns, repository.Model, reference, null, cancellationToken);
            return;
        }

        if (await db.OciTags.AnyAsync(t => t.ModelId == model.Id && t.Name == reference, cancellationToken))
        {
            await RecordAsync("oci.tag.delete", ns, $"{repository}:{reference}", null,
                async ct => await db.OciTags.Where(t => t.ModelId == model.Id && t.Name == reference).ExecuteDeleteAsync(ct), cancellationToken);
            return;
        }

        if (await ResolveTagAsync(model, reference, cancellationToken) is not null)
        {
            throw new OciException(OciError.Unsupported, $"Tag '{reference}' of {repository} is a version number, semantic version, stage or 'latest', which move with the versions; delete the version by its digest instead.");
        }

        throw new OciException(OciError.ManifestUnknown, $"Repository {repository} has no tag '{reference}'.");
    }

    /// <summary>Runs <paramref name="change"/> and records it in the audit log, in one transaction.</summary>
    private async Task RecordAsync(string action, string ns, string target, Dictionary<string, object?>? details, Func<CancellationToken, Task> change, CancellationToken cancellationToken)
    {
        await db.InTransactionWithRetryAsync(async ct =>
        {
            await change(ct);
            audit.Record(action, ns, target, details);
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
    }
}
