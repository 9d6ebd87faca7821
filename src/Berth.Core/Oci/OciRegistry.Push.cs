using System.Globalization;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Oci;

/// <summary>The outcome of a manifest push: its digest, its subject (when it has one), and the version it made or named.</summary>
public sealed record OciPushResult(string Digest, string? Subject, int? Version);

public sealed partial class OciRegistry
{
    /// <summary>The digest of the empty JSON object, the config of many artifacts; Berth stores it when a push names it unstored.</summary>
    private static readonly byte[] EmptyJson = "{}"u8.ToArray();

    /// <summary>
    /// The model behind a repository a client pushes to, created (with its namespace) on first push, as <c>berth push</c>
    /// creates it. The model car repository takes no pushes.
    /// </summary>
    public async Task<RegisteredModel> EnsureRepositoryAsync(Actor actor, OciRepositoryName repository, CancellationToken cancellationToken)
    {
        if (repository.Modelcar)
        {
            throw new OciException(OciError.Denied, $"Repository {repository} holds the model car images Berth builds from {repository.Namespace}/{repository.Model}; push to {repository.Namespace}/{repository.Model} instead.");
        }

        var existing = await db.Models.AsNoTracking().Include(m => m.Namespace)
            .FirstOrDefaultAsync(m => m.Name == repository.Model && m.Namespace.Name == repository.Namespace && m.DeletedAt == null && m.Namespace.DeletedAt == null, cancellationToken);
        if (existing is not null)
        {
            return existing;
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            await models.EnsureModelAsync(actor, repository.Namespace, repository.Model, ct);
            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        return await GetModelAsync(repository, cancellationToken);
    }

    /// <summary>
    /// Cross-repository mount: links <paramref name="digestText"/> into <paramref name="repository"/> when the caller may read
    /// it in <paramref name="from"/> (or it counts as present for the caller anywhere: a ready version it may read holds
    /// it). The bytes are not copied: the store holds each blob once. False: the caller uploads it instead.
    /// </summary>
    public async Task<OciBlob?> MountAsync(Actor actor, OciRepositoryName repository, string digestText, string? from, CancellationToken cancellationToken)
    {
        if (!Digest.TryParse(digestText, out var digest))
        {
            return null;
        }

        var model = await EnsureRepositoryAsync(actor, repository, cancellationToken);
        var key = digest.ToString();
        var readable = false;
        if (from is not null && OciNames.TryParseRepository(from, out var source, out _) && await access.CanAsync(actor, Permission.Read, source.Namespace, cancellationToken))
        {
            try
            {
                await GetBlobAsync(source, key, cancellationToken);
                readable = true;
            }
            catch (OciException)
            {
                // Not in that repository: maybe readable elsewhere.
            }
        }

        readable = readable || (await presence.PresentAsync(actor, [key], cancellationToken)).Contains(key);
        if (!readable)
        {
            return null;
        }

        await LinkAsync(model.Id, key, cancellationToken);
        return await GetBlobAsync(repository, key, cancellationToken);
    }

    /// <summary>Records that the repository holds the blob (as an upload into it does).</summary>
    private async Task LinkAsync(long modelId, string digest, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (await db.ModelUploads.Where(u => u.ModelId == modelId && u.Digest == digest).ExecuteUpdateAsync(s => s.SetProperty(u => u.UploadedAt, now), cancellationToken) == 0)
        {
            db.ModelUploads.Add(new ModelUpload { ModelId = modelId, Digest = digest, UploadedAt = now });
            try
            {
                await db.SaveChangesAsync(cancellationToken);
            }
            catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
            {
                // Linked by a concurrent request.
            }

            db.ChangeTracker.Clear();
        }

        await db.Blobs.Where(b => b.Digest == digest && b.DeletingAt == null).ExecuteUpdateAsync(s => s.SetProperty(b => b.LastUsedAt, now), cancellationToken);
    }

    /// <summary>
    /// Unlinks a blob uploaded into the repository and named by none of its manifests or versions (DELETE of a blob). A
    /// blob still referenced is refused with UNSUPPORTED: delete the manifest (or version) instead; garbage collection
    /// removes the bytes once nothing references them.
    /// </summary>
    public async Task DeleteBlobAsync(OciRepositoryName repository, string digestText, CancellationToken cancellationToken)
    {
        var blob = await GetBlobAsync(repository, digestText, cancellationToken);
        var model = await GetModelAsync(repository, cancellationToken);
        var key = blob.Digest.ToString();
        var referenced = await db.OciBlobRefs.AnyAsync(r => r.Digest == key && db.OciManifests.Any(m => m.Id == r.ManifestId && m.ModelId == model.Id), cancellationToken)
                         || await db.VersionFiles.AnyAsync(f => f.Digest == key && db.Versions.Any(v => v.Id == f.VersionId && v.ModelId == model.Id && v.State != VersionState.Deleted), cancellationToken);
        if (referenced || repository.Modelcar)
        {
            throw new OciException(OciError.Unsupported, $"Blob {key} belongs to a manifest or version of {repository}: delete that instead; unreferenced bytes are collected by 'berth gc'.");
        }

        await db.ModelUploads.Where(u => u.ModelId == model.Id && u.Digest == key).ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>
    /// Stores a pushed manifest under <paramref name="reference"/> (a tag or its digest). A ModelPack, Docker Model Runner
    /// or KitOps manifest becomes a Berth version (or names the version it already is); anything else is stored as pushed.
    /// Every blob it names must be in the repository (MANIFEST_BLOB_UNKNOWN otherwise), and nothing is stored when a check fails.
    /// </summary>
    public async Task<OciPushResult> PushManifestAsync(Actor actor, OciRepositoryName repository, string reference, string? contentType, byte[] content, CancellationToken cancellationToken)
    {
        var digest = Digest.Compute(content);
        string? tag = null;
        if (reference.Contains(':', StringComparison.Ordinal))
        {
            var named = ParseDigest(reference, OciError.DigestInvalid);
            if (named != digest)
            {
                throw new OciException(OciError.DigestInvalid, $"The manifest's bytes hash to {digest}, not {named}; nothing was stored.");
            }
        }
        else if (OciNames.IsValidTag(reference))
        {
            tag = reference;
        }
        else
        {
            throw new OciException(OciError.ManifestInvalid, $"'{Names.Show(reference)}' is not a valid tag: 1-128 letters, digits, '_', '.' or '-', not starting with '.' or '-'.");
        }

        var document = OciManifestDocument.Parse(content, contentType);
        var model = await EnsureRepositoryAsync(actor, repository, cancellationToken);
        await CheckReferencesAsync(repository, model, document, cancellationToken);
        var result = document.IsModel
            ? await PushModelAsync(actor, repository, model, document, digest, content, tag, cancellationToken)
            : await PushOtherAsync(actor, repository, model, document, digest, content, tag, cancellationToken);
        return result with { Subject = document.Subject?.Digest.ToString() };
    }

    /// <summary>Every blob the manifest names is in the repository with the size it says; an index's manifests are in it too.</summary>
    private async Task CheckReferencesAsync(OciRepositoryName repository, RegisteredModel model, OciManifestDocument document, CancellationToken cancellationToken)
    {
        foreach (var blob in document.Blobs)
        {
            var key = blob.Digest.ToString();
            OciBlob found;
            try
            {
                found = await GetBlobAsync(repository, key, cancellationToken);
            }
            catch (OciException) when (blob.Digest == Digest.Compute(EmptyJson))
            {
                await generated.PutAsync(EmptyJson, cancellationToken);
                await LinkAsync(model.Id, key, cancellationToken);
                found = new OciBlob(blob.Digest, EmptyJson.Length);
            }
            catch (OciException)
            {
                throw new OciException(OciError.ManifestBlobUnknown, $"The manifest names blob {key} ({Names.Show(blob.MediaType)}), which {repository} does not have: push the blob first. Nothing was stored.");
            }

            if (found.Size != blob.Size)
            {
                throw new OciException(OciError.ManifestInvalid, $"The manifest says blob {key} has {blob.Size} bytes; it has {found.Size}. Nothing was stored.");
            }
        }

        foreach (var child in document.Manifests)
        {
            var key = child.Digest.ToString();
            if (!await Live(model.Id, OciRepository.Model).AnyAsync(m => m.Digest == key, cancellationToken))
            {
                throw new OciException(OciError.ManifestBlobUnknown, $"The index names manifest {key}, which {repository} does not have: push it first. Nothing was stored.");
            }
        }
    }

    private async Task<OciPushResult> PushOtherAsync(Actor actor, OciRepositoryName repository, RegisteredModel model, OciManifestDocument document, Digest digest, byte[] content, string? tag, CancellationToken cancellationToken)
    {
        if (tag is not null)
        {
            await RefuseBerthTagAsync(repository, model, tag, cancellationToken);
        }

        var key = digest.ToString();
        var id = await StorePushedAsync(model, document, key, content, versionId: null, cancellationToken);
        if (tag is not null)
        {
            await SetTagAsync(model.Id, tag, id, cancellationToken);
        }

        return new OciPushResult(key, null, null);
    }

    /// <summary>
    /// A tag that is Berth's (a number, a semantic version, <c>latest</c>, a stage, or an alias the model has) names versions,
    /// never other manifests: DENIED.
    /// </summary>
    private async Task RefuseBerthTagAsync(OciRepositoryName repository, RegisteredModel model, string tag, CancellationToken cancellationToken)
    {
        var stages = await policies.StageNamesAsync(model.NamespaceId, model.Id, cancellationToken);
        var reserved = tag == Names.Latest || stages.Contains(tag, StringComparer.Ordinal)
                       || (VersionSelector.TryParse(tag, out var selector, out _) && selector.Kind is SelectorKind.Number or SelectorKind.SemanticVersion)
                       || await db.Aliases.AnyAsync(a => a.ModelId == model.Id && a.Name == tag, cancellationToken);
        if (reserved)
        {
            throw new OciException(OciError.Denied, $"Tag '{tag}' of {repository} is Berth's (a version number, semantic version, stage, alias or latest) and names model versions only; push this manifest under another tag or by digest. Nothing was stored.");
        }
    }

    /// <summary>Stores a pushed manifest once (a repeated push of the same bytes finds it) and returns its row id.</summary>
    private async Task<long> StorePushedAsync(RegisteredModel model, OciManifestDocument document, string key, byte[] content, long? versionId, CancellationToken cancellationToken)
    {
        var existing = await db.OciManifests.AsNoTracking().Where(m => m.ModelId == model.Id && m.Repository == OciRepository.Model && m.Digest == key)
            .Select(m => (long?)m.Id).FirstOrDefaultAsync(cancellationToken);
        if (existing is { } id)
        {
            return id;
        }

        var row = new OciManifest
        {
            ModelId = model.Id,
            Repository = OciRepository.Model,
            Origin = OciManifestOrigin.Pushed,
            Digest = key,
            MediaType = document.MediaType,
            ArtifactType = document.EffectiveArtifactType,
            Content = content,
            VersionId = versionId,
            Subject = document.Subject?.Digest.ToString(),
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            Blobs = document.Blobs.Select(b => b.Digest.ToString()).Distinct(StringComparer.Ordinal).Select(d => new OciBlobRef { Digest = d }).ToList(),
        };
        db.OciManifests.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return row.Id;
        }
        catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
            return await db.OciManifests.AsNoTracking().Where(m => m.ModelId == model.Id && m.Repository == OciRepository.Model && m.Digest == key)
                .Select(m => m.Id).SingleAsync(cancellationToken);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    private async Task SetTagAsync(long modelId, string tag, long manifestId, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        if (await db.OciTags.Where(t => t.ModelId == modelId && t.Name == tag)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.ManifestId, manifestId).SetProperty(t => t.UpdatedAt, now), cancellationToken) > 0)
        {
            return;
        }

        db.OciTags.Add(new OciTag { ModelId = modelId, Name = tag, ManifestId = manifestId, UpdatedAt = now });
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
        {
            db.ChangeTracker.Clear();
            await db.OciTags.Where(t => t.ModelId == modelId && t.Name == tag)
                .ExecuteUpdateAsync(s => s.SetProperty(t => t.ManifestId, manifestId).SetProperty(t => t.UpdatedAt, now), cancellationToken);
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>What a tag pushed with a model means in Berth (docs/oci.md, "Tags").</summary>
    private sealed record TagPlan(bool Latest = false, int? Number = null, string? SemVer = null, string? Stage = null, string? Alias = null, string? OciTag = null);

    private async Task<TagPlan> PlanTagAsync(OciRepositoryName repository, RegisteredModel model, string? tag, CancellationToken cancellationToken)
    {
        if (tag is null)
        {
            return new TagPlan();
        }

        if (tag == Names.Latest)
        {
            return new TagPlan(Latest: true);
        }

        if (VersionSelector.TryParse(tag, out var selector, out _))
        {
            switch (selector.Kind)
            {
                case SelectorKind.Number:
                    return new TagPlan(Number: selector.Number);
                case SelectorKind.SemanticVersion:
                    return new TagPlan(SemVer: selector.Text);
            }
        }

        var rules = await policies.EffectiveAsync(model.NamespaceId, model.Id, cancellationToken);
        if (rules.FirstOrDefault(r => r.Stage == tag) is { } rule)
        {
            if (rule.RequiredApprovals > 0)
            {
                throw new OciException(OciError.Denied, $"Stage '{tag}' of {repository} is protected ({rule.RequiredApprovals} approvals): a push cannot move it. Push by digest or another tag, then ask for the promotion with 'berth stage'. Nothing was stored.");
            }

            return new TagPlan(Stage: tag);
        }

        if (Names.CheckAlias(tag, rules.Select(r => r.Stage)) is null)
        {
            if (await db.ProtectedAliases.AnyAsync(p => p.ModelId == model.Id && p.Name == tag, cancellationToken))
            {
                throw new OciException(OciError.Denied, $"Alias '{tag}' of {repository} is protected: a push cannot move it. Push by digest or another tag, then 'berth alias set' opens a request. Nothing was stored.");
            }

            return new TagPlan(Alias: tag);
        }

        return new TagPlan(OciTag: tag);
    }

    private async Task<OciPushResult> PushModelAsync(Actor actor, OciRepositoryName repository, RegisteredModel model, OciManifestDocument document, Digest digest, byte[] content, string? tag, CancellationToken cancellationToken)
    {
        var key = digest.ToString();
        var plan = await PlanTagAsync(repository, model, tag, cancellationToken);
        var ns = repository.Namespace;
        var name = repository.Model;
        var known = await db.OciManifests.AsNoTracking().Where(m => m.ModelId == model.Id && m.Repository == OciRepository.Model && m.Digest == key && m.VersionId != null)
            .Select(m => new { m.Id, Version = db.Versions.Where(v => v.Id == m.VersionId).Select(v => new { v.Id, v.Number, v.SemVer, v.State }).Single() })
            .FirstOrDefaultAsync(cancellationToken);
        int number;
        if (known is { Version.State: VersionState.Ready })
        {
            // The same model again: it names the version it already is.
            number = known.Version.Number;
            await CheckSameVersionAsync(repository, model, plan, known.Version.Number, known.Version.SemVer, cancellationToken);
        }
        else
        {
            if (known is { Version.State: VersionState.Pending })
            {
                throw new OciException(OciError.Denied, $"Manifest {key} is being pushed to {repository} right now (version {known.Version.Number}, pending); retry when it is done.");
            }

            if (known is not null)
            {
                // Its version was deleted or failed: the push makes a new one.
                await db.OciManifests.Where(m => m.Id == known.Id).ExecuteDeleteAsync(cancellationToken);
            }

            if (plan.Number is { } asked)
            {
                throw new OciException(OciError.Denied, $"Tag '{asked}' is a version number of {repository}; Berth numbers new versions itself. Push by digest, or with a semantic version or alias as the tag. Nothing was stored.");
            }

            number = await CreateVersionAsync(actor, repository, model, document, key, content, plan, cancellationToken);
        }

        var version = number.ToString(CultureInfo.InvariantCulture);
        if (plan.Stage is { } stage)
        {
            await lifecycle.ChangeStageAsync(actor, ns, name, version, new StageChangeRequest(stage, "pushed with this tag through OCI"), null, cancellationToken);
        }

        if (plan.Alias is { } alias && known is not null)
        {
            await lifecycle.SetAliasAsync(actor, ns, name, alias, new SetAliasRequest(version), null, cancellationToken);
        }

        if (plan.OciTag is { } ociTag)
        {
            var id = await db.OciManifests.AsNoTracking().Where(m => m.ModelId == model.Id && m.Repository == OciRepository.Model && m.Digest == key).Select(m => m.Id).SingleAsync(cancellationToken);
            await SetTagAsync(model.Id, ociTag, id, cancellationToken);
        }

        return new OciPushResult(key, null, number);
    }

    /// <summary>A tag pushed again with a model that is already version <paramref name="number"/> must name that version.</summary>
    private async Task CheckSameVersionAsync(OciRepositoryName repository, RegisteredModel model, TagPlan plan, int number, string? semver, CancellationToken cancellationToken)
    {
        if (plan.Number is { } asked && asked != number)
        {
            throw new OciException(OciError.Denied, $"This manifest is version {number} of {repository}, not {asked}; version numbers never move.");
        }

        if (plan.SemVer is { } wanted && wanted != semver)
        {
            throw new OciException(OciError.Denied, $"This manifest is version {number} of {repository}{(semver is null ? ", which has no semantic version" : $" ({semver})")}; semantic versions are given once, when a version is created.");
        }

        if (plan.Latest)
        {
            var newest = await db.Versions.Where(v => v.ModelId == model.Id && v.State == VersionState.Ready).MaxAsync(v => (int?)v.Number, cancellationToken);
            if (newest != number)
            {
                throw new OciException(OciError.Denied, $"'latest' of {repository} is always its newest version ({newest}); this manifest is version {number}.");
            }
        }
    }

    /// <summary>Declares, links and commits the version a pushed model becomes; its files are the layers at their annotated paths.</summary>
    private async Task<int> CreateVersionAsync(Actor actor, OciRepositoryName repository, RegisteredModel model, OciManifestDocument document, string key, byte[] content, TagPlan plan, CancellationToken cancellationToken)
    {
        var config = document.Config!;
        byte[] configBytes;
        await using (var stream = await store.OpenReadAsync(config.Digest, 0, cancellationToken))
        {
            if (config.Size > options.Value.MaxManifestSize)
            {
                throw new OciException(OciError.ManifestInvalid, $"The model's config has {config.Size} bytes; at most {options.Value.MaxManifestSize} are read.");
            }

            configBytes = new byte[config.Size];
            await stream.ReadExactlyAsync(configBytes, cancellationToken);
        }

        var facts = ModelConfigReader.Read(config.MediaType, configBytes);
        var files = LayerFiles.From(document, facts);
        if (files.Count == 0)
        {
            throw new OciException(OciError.ManifestInvalid, "The model has no layers: a version needs at least one file. Nothing was stored.");
        }

        var semver = plan.SemVer;
        if (semver is null && SemanticVersion.TryParse(facts.Version, out var fromConfig))
        {
            var candidate = fromConfig.ToString();
            semver = await db.Versions.AnyAsync(v => v.ModelId == model.Id && v.SemVer == candidate, cancellationToken) ? null : candidate;
        }

        var description = facts.Description is { Length: > 0 and <= Names.DescriptionMaxLength } d ? d : null;
        var request = new CreateVersionRequest(files, semver, description, Tags: facts.Tags.Count > 0 ? facts.Tags : null,
            Aliases: plan.Alias is { } alias ? [alias] : null);
        var stored = files.Select(f => f.Digest).ToHashSet(StringComparer.Ordinal);
        var created = await versions.CreateAsync(actor, repository.Namespace, repository.Model, request, stored, cancellationToken);
        var number = created.Version.Number;
        var versionId = await db.Versions.Where(v => v.ModelId == model.Id && v.Number == number).Select(v => v.Id).SingleAsync(cancellationToken);
        // Stored while the version is pending, so Berth never builds a manifest of its own for it: the pushed bytes are its OCI form.
        await StorePushedAsync(model, document, key, content, versionId, cancellationToken);
        await versions.CommitAsync(actor, repository.Namespace, repository.Model, number.ToString(CultureInfo.InvariantCulture), cancellationToken);
        return number;
    }
}
