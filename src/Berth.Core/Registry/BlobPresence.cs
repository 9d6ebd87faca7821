using Berth.Core.Auth;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Registry;

/// <summary>
/// Which blobs count as present for a caller, so that a push need not upload them. Storage is deduplicated across the
/// whole registry, but knowing a digest must not be a way to read bytes: a blob counts as present only when the store
/// holds it and a ready version the caller may read (in a namespace it has a role in, or any with anonymous reads on)
/// already references it; for server administrators every stored blob does. Any other blob must be uploaded (the upload
/// verifies the digest and, when the store already holds the bytes, keeps the stored copy).
/// </summary>
public sealed class BlobPresence(RegistryDbContext db, AccessControl access, IOptions<RegistryOptions> options)
{
    /// <summary>Those of <paramref name="digests"/> (distinct) that count as present for <paramref name="actor"/>, in one query.</summary>
    public async Task<HashSet<string>> PresentAsync(Actor actor, IReadOnlyList<string> digests, CancellationToken cancellationToken)
    {
        var present = new HashSet<string>(StringComparer.Ordinal);
        if (digests.Count == 0)
        {
            return present;
        }

        var wanted = digests as List<string> ?? [.. digests];
        var stored = db.Blobs.AsNoTracking().Where(b => wanted.Contains(b.Digest) && b.DeletingAt == null);
        if (!actor.IsSystem && !actor.IsAdmin)
        {
            var readable = options.Value.AnonymousRead ? null : await access.ReadableNamespaceIdsAsync(actor, cancellationToken);
            var visible = db.Versions.Where(v => v.State == VersionState.Ready && v.Model.DeletedAt == null && v.Model.Namespace.DeletedAt == null);
            if (readable is not null)
            {
                visible = visible.Where(v => readable.Contains(v.Model.NamespaceId));
            }

            stored = stored.Where(b => db.VersionFiles.Any(f => f.Digest == b.Digest && visible.Any(v => v.Id == f.VersionId)));
        }

        foreach (var digest in await stored.Select(b => b.Digest).ToListAsync(cancellationToken))
        {
            present.Add(digest);
        }

        return present;
    }

    /// <summary>
    /// After verified bytes of <paramref name="digest"/> were uploaded into <paramref name="ns"/>/<paramref name="model"/>:
    /// the model's pending versions that list the digest no longer wait for it, and the model remembers the upload
    /// (<see cref="ModelUpload"/>) so that its runs can attach the bytes. In the caller's transaction, which holds the
    /// digest's lock (so two uploads of one digest never insert the same row at once).
    /// </summary>
    public async Task MarkUploadedAsync(string ns, string model, string digest, DateTime now, CancellationToken cancellationToken)
    {
        var pending = await db.Versions.AsNoTracking()
            .Where(v => v.State == VersionState.Pending && v.Model.Name == model && v.Model.Namespace.Name == ns)
            .Select(v => v.Id).ToListAsync(cancellationToken);
        if (pending.Count > 0)
        {
            await db.VersionFiles.Where(f => pending.Contains(f.VersionId) && f.Digest == digest && f.NeedsUpload)
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.NeedsUpload, false), cancellationToken);
        }

        var modelId = await db.Models.AsNoTracking().Where(m => m.Name == model && m.Namespace.Name == ns)
            .Select(m => (long?)m.Id).FirstOrDefaultAsync(cancellationToken);
        if (modelId is { } id &&
            await db.ModelUploads.Where(u => u.ModelId == id && u.Digest == digest).ExecuteUpdateAsync(s => s.SetProperty(u => u.UploadedAt, now), cancellationToken) == 0)
        {
            db.ModelUploads.Add(new ModelUpload { ModelId = id, Digest = digest, UploadedAt = now });
            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>Those of <paramref name="digests"/> uploaded into the model since <paramref name="since"/>.</summary>
    public async Task<HashSet<string>> UploadedIntoAsync(long modelId, IReadOnlyList<string> digests, DateTime since, CancellationToken cancellationToken)
    {
        var wanted = digests as List<string> ?? [.. digests];
        var found = await db.ModelUploads.AsNoTracking()
            .Where(u => u.ModelId == modelId && u.UploadedAt > since && wanted.Contains(u.Digest))
            .Select(u => u.Digest).ToListAsync(cancellationToken);
        return found.ToHashSet(StringComparer.Ordinal);
    }
}
