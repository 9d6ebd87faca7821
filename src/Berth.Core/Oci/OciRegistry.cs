using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Blobs;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Governance;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Oci;

/// <summary>A manifest as served: its exact bytes, media type and digest.</summary>
public sealed record OciManifestContent(byte[] Content, string MediaType, string Digest);

/// <summary>A blob of a repository: its digest and size.</summary>
public sealed record OciBlob(Digest Digest, long Size);

/// <summary>
/// The OCI distribution view of Berth's models (docs/oci.md): repositories, tags, manifests, blobs and referrers, and
/// what a push through OCI makes of a model (<see cref="PushManifestAsync"/>). Pull side here; push side in
/// OciRegistry.Push.cs.
/// </summary>
public sealed partial class OciRegistry(
    RegistryDbContext db,
    ModelLookup lookup,
    ModelService models,
    VersionService versions,
    LifecycleService lifecycle,
    StagePolicies policies,
    BlobPresence presence,
    AccessControl access,
    IBlobStore store,
    GeneratedBlobs generated,
    AuditTrail audit,
    IOptions<OciOptions> options,
    TimeProvider clock)
{
    /// <summary>The model behind a repository, or NAME_UNKNOWN.</summary>
    public async Task<RegisteredModel> GetModelAsync(OciRepositoryName repository, CancellationToken cancellationToken)
    {
        var model = await db.Models.AsNoTracking().Include(m => m.Namespace)
            .FirstOrDefaultAsync(m => m.Name == repository.Model && m.Namespace.Name == repository.Namespace && m.DeletedAt == null && m.Namespace.DeletedAt == null, cancellationToken);
        return model ?? throw new OciException(OciError.NameUnknown, $"Repository {repository} does not exist.");
    }

    /// <summary>A manifest by tag or digest.</summary>
    public async Task<OciManifestContent> GetManifestAsync(OciRepositoryName repository, string reference, CancellationToken cancellationToken)
    {
        var model = await GetModelAsync(repository, cancellationToken);
        var kind = repository.Modelcar ? OciRepository.Modelcar : OciRepository.Model;
        if (reference.Contains(':', StringComparison.Ordinal))
        {
            var digest = ParseDigest(reference, OciError.ManifestUnknown);
            var key = digest.ToString();
            var row = await Live(model.Id, kind).Where(m => m.Digest == key)
                .Select(m => new OciManifestContent(m.Content, m.MediaType, m.Digest)).FirstOrDefaultAsync(cancellationToken);
            return row ?? throw new OciException(OciError.ManifestUnknown, $"Repository {repository} has no manifest {key}.");
        }

        if (!OciNames.IsValidTag(reference))
        {
            throw new OciException(OciError.ManifestInvalid, $"'{Names.Show(reference)}' is neither a tag nor a digest.");
        }

        // Berth's selectors first: acme/fraud:production is always the production version.
        if (await ResolveTagAsync(model, reference, cancellationToken) is { } versionId)
        {
            var built = await Live(model.Id, kind).Where(m => m.VersionId == versionId)
                .Select(m => new OciManifestContent(m.Content, m.MediaType, m.Digest)).FirstOrDefaultAsync(cancellationToken);
            return built ?? await BuildAsync(versionId, kind, cancellationToken);
        }

        var tagged = repository.Modelcar ? null : await db.OciTags.AsNoTracking().Where(t => t.ModelId == model.Id && t.Name == reference)
            .Select(t => new OciManifestContent(t.Manifest.Content, t.Manifest.MediaType, t.Manifest.Digest)).FirstOrDefaultAsync(cancellationToken);
        return tagged ?? throw new OciException(OciError.ManifestUnknown, $"Repository {repository} has no tag '{reference}'.");
    }

    /// <summary>
    /// The manifests of a repository that can be served: those of ready versions, and pushed ones that belong to no version.
    /// </summary>
    private IQueryable<OciManifest> Live(long modelId, OciRepository kind) =>
        db.OciManifests.AsNoTracking().Where(m => m.ModelId == modelId && m.Repository == kind &&
            (m.VersionId == null || db.Versions.Any(v => v.Id == m.VersionId && v.State == VersionState.Ready)));

    /// <summary>The ready version a Berth selector names, or null when the tag is none (or names nothing ready).</summary>
    private async Task<long?> ResolveTagAsync(RegisteredModel model, string tag, CancellationToken cancellationToken)
    {
        if (!VersionSelector.TryParse(tag, out var selector, out _) || selector.Kind == SelectorKind.Digest)
        {
            return null;
        }

        try
        {
            return await lookup.ResolveIdAsync(model, selector, allowAnyState: false, cancellationToken);
        }
        catch (RegistryException e) when (e.Error.Status is 404 or 409 or 410)
        {
            return null;
        }
    }

    /// <summary>Builds (once) and stores the OCI form of a ready version; a concurrent build of the same bytes is harmless.</summary>
    internal async Task<OciManifestContent> BuildAsync(long versionId, OciRepository kind, CancellationToken cancellationToken)
    {
        var facts = await FactsAsync(versionId, cancellationToken);
        BuiltManifest built;
        if (kind == OciRepository.Model)
        {
            built = ModelPackBuilder.Build(facts);
        }
        else
        {
            var layers = new List<(Digest, long)>();
            if (options.Value.ModelcarBaseLayer is { Length: > 0 } basePath)
            {
                var baseDigest = await generated.WriteAsync(async (stream, ct) =>
                {
                    await using var file = File.OpenRead(basePath);
                    await file.CopyToAsync(stream, ct);
                }, cancellationToken);
                layers.Add((baseDigest, new FileInfo(basePath).Length));
            }

            var layer = await generated.WriteAsync((stream, ct) => ModelcarBuilder.WriteLayerAsync(stream, facts, store, ct), cancellationToken);
            var size = (await store.StatAsync(layer, cancellationToken))?.Size ?? throw new BlobNotFoundException(layer);
            layers.Add((layer, size));
            built = ModelcarBuilder.Build(facts, options.Value.ModelcarArchitecture, layers);
        }

        await generated.PutAsync(built.Config, cancellationToken);
        var row = new OciManifest
        {
            ModelId = facts.ModelId,
            Repository = kind,
            Origin = OciManifestOrigin.Built,
            Digest = built.Digest.ToString(),
            MediaType = built.MediaType,
            ArtifactType = built.ArtifactType,
            Content = built.Manifest,
            VersionId = versionId,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
            Blobs = built.Blobs.Select(d => new OciBlobRef { Digest = d }).ToList(),
        };
        db.OciManifests.Add(row);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException e) when (db.Errors.IsUniqueViolation(e))
        {
            // Another request (or replica) stored it first: serve what was stored, so the digest is the one that stays.
            db.ChangeTracker.Clear();
            return await db.OciManifests.AsNoTracking().Where(m => m.VersionId == versionId && m.Repository == kind)
                .Select(m => new OciManifestContent(m.Content, m.MediaType, m.Digest)).SingleAsync(cancellationToken);
        }

        db.ChangeTracker.Clear();
        return new OciManifestContent(row.Content, row.MediaType, row.Digest);
    }

    private async Task<FactsRow> FactsAsync(long versionId, CancellationToken cancellationToken)
    {
        var row = await db.Versions.AsNoTracking().Where(v => v.Id == versionId).Select(v => new
        {
            v.ModelId,
            Namespace = v.Model.Namespace.Name,
            Model = v.Model.Name,
            v.Number,
            v.SemVer,
            v.Description,
            v.CreatedAt,
            CreatedBy = v.CreatedBy.Name,
            v.ManifestDigest,
        }).SingleAsync(cancellationToken);
        var files = await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == versionId).OrderBy(f => f.Path)
            .Select(f => new FileEntry(f.Path, f.Size, f.Digest, f.MediaType)).ToListAsync(cancellationToken);
        return new FactsRow(row.ModelId, row.Namespace, row.Model, row.Number, row.SemVer, row.Description,
            new DateTimeOffset(DateTime.SpecifyKind(row.CreatedAt, DateTimeKind.Utc)), row.CreatedBy, row.ManifestDigest, files);
    }

    /// <summary>What a built manifest is made from, with the model it belongs to.</summary>
    private sealed record FactsRow(long ModelId, string Namespace, string Model, int Number, string? SemVer, string? Description, DateTimeOffset CreatedAt, string CreatedBy, string ManifestDigest, IReadOnlyList<FileEntry> Files)
    {
        public static implicit operator VersionFacts(FactsRow f) => new(f.Namespace, f.Model, f.Number, f.SemVer, f.Description, f.CreatedAt, f.CreatedBy, f.ManifestDigest, f.Files);
    }

    /// <summary>
    /// A blob of the repository: one a manifest of it references (ModelPack layers are its versions' files), or one
    /// uploaded (or mounted) into it. Knowing a digest is never enough to read another repository's bytes.
    /// </summary>
    public async Task<OciBlob> GetBlobAsync(OciRepositoryName repository, string digestText, CancellationToken cancellationToken)
    {
        var model = await GetModelAsync(repository, cancellationToken);
        var digest = ParseDigest(digestText, OciError.DigestInvalid);
        var key = digest.ToString();
        var kind = repository.Modelcar ? OciRepository.Modelcar : OciRepository.Model;
        var live = Live(model.Id, kind);
        var size = await db.Blobs.AsNoTracking()
            .Where(b => b.Digest == key && b.DeletingAt == null && b.QuarantinedAt == null)
            .Where(b => db.OciBlobRefs.Any(r => r.Digest == key && live.Any(m => m.Id == r.ManifestId))
                        || (kind == OciRepository.Model && (
                            db.VersionFiles.Any(f => f.Digest == key && db.Versions.Any(v => v.Id == f.VersionId && v.ModelId == model.Id && v.State == VersionState.Ready))
                            || db.ModelUploads.Any(u => u.ModelId == model.Id && u.Digest == key))))
            .Select(b => (long?)b.Size).FirstOrDefaultAsync(cancellationToken);
        return size is { } s ? new OciBlob(digest, s) : throw new OciException(OciError.BlobUnknown, $"Repository {repository} has no blob {key}.");
    }

    /// <summary>
    /// The repository's tags in lexical order: its pushed tags and Berth's selectors of its ready versions (numbers,
    /// semantic versions, aliases, stages that hold a version, and <c>latest</c>).
    /// </summary>
    public async Task<IReadOnlyList<string>> ListTagsAsync(OciRepositoryName repository, CancellationToken cancellationToken)
    {
        var model = await GetModelAsync(repository, cancellationToken);
        var ready = db.Versions.AsNoTracking().Where(v => v.ModelId == model.Id && v.State == VersionState.Ready);
        var tags = new SortedSet<string>(StringComparer.Ordinal);
        var rows = await ready.Select(v => new { v.Number, v.SemVer, v.Stage }).ToListAsync(cancellationToken);
        if (rows.Count > 0)
        {
            tags.Add(Names.Latest);
        }

        var stages = await policies.StageNamesAsync(model.NamespaceId, model.Id, cancellationToken);
        foreach (var row in rows)
        {
            tags.Add(row.Number.ToString(System.Globalization.CultureInfo.InvariantCulture));
            if (row.SemVer is { } semver)
            {
                tags.Add(semver);
            }

            if (row.Stage is { } stage && stages.Contains(stage, StringComparer.Ordinal))
            {
                tags.Add(stage);
            }
        }

        foreach (var alias in await db.Aliases.AsNoTracking().Where(a => a.ModelId == model.Id && a.Version.State == VersionState.Ready).Select(a => a.Name).ToListAsync(cancellationToken))
        {
            tags.Add(alias);
        }

        if (!repository.Modelcar)
        {
            foreach (var tag in await db.OciTags.AsNoTracking().Where(t => t.ModelId == model.Id).Select(t => t.Name).ToListAsync(cancellationToken))
            {
                tags.Add(tag);
            }
        }

        return [.. tags];
    }

    /// <summary>The manifests of the repository whose subject is <paramref name="digestText"/>, optionally of one artifact type.</summary>
    public async Task<IReadOnlyList<OciReferrer>> ListReferrersAsync(OciRepositoryName repository, string digestText, string? artifactType, CancellationToken cancellationToken)
    {
        var model = await GetModelAsync(repository, cancellationToken);
        var key = ParseDigest(digestText, OciError.DigestInvalid).ToString();
        var kind = repository.Modelcar ? OciRepository.Modelcar : OciRepository.Model;
        var query = Live(model.Id, kind).Where(m => m.Subject == key);
        if (artifactType is not null)
        {
            query = query.Where(m => m.ArtifactType == artifactType);
        }

        var rows = await query.OrderBy(m => m.Id).Select(m => new { m.Digest, m.MediaType, m.ArtifactType, m.Content, m.CreatedAt }).ToListAsync(cancellationToken);
        return rows.Select(r => new OciReferrer(r.Digest, r.MediaType, r.Content.LongLength, r.ArtifactType, OciManifestDocument.ReadAnnotations(r.Content),
            new DateTimeOffset(DateTime.SpecifyKind(r.CreatedAt, DateTimeKind.Utc)))).ToList();
    }

    internal static Digest ParseDigest(string text, OciError error)
    {
        if (Digest.TryParse(text, out var digest))
        {
            return digest;
        }

        var algorithm = text.Split(':')[0];
        throw algorithm is "sha512" or "sha384" && text.Length > algorithm.Length + 1
            ? new OciException(OciError.Unsupported, $"This registry stores sha256 digests only, not {algorithm}.", 400)
            : new OciException(error == OciError.ManifestUnknown ? OciError.DigestInvalid : error, $"'{Names.Show(text)}' is not a digest (sha256: followed by 64 lowercase hex characters).", 400);
    }
}

/// <summary>A manifest that refers to another (its subject), as the referrers API lists it.</summary>
public sealed record OciReferrer(string Digest, string MediaType, long Size, string? ArtifactType, IReadOnlyDictionary<string, string>? Annotations, DateTimeOffset CreatedAt);
