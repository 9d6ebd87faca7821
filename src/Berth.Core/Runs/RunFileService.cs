using System.Globalization;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Runs;

/// <summary>
/// Run files (checkpoints, plots, logs): blobs uploaded through the model's upload endpoints and attached to a run by
/// path; and registering a run as a version of its model from those bytes, through <see cref="VersionService"/> (the
/// same quotas, protected aliases, naming rules and events as a push), without uploading anything again.
/// </summary>
public sealed class RunFileService(
    RegistryDbContext db,
    RunService runs,
    VersionService versions,
    BlobPresence presence,
    IOptions<RegistryOptions> options,
    TimeProvider clock)
{
    /// <summary>
    /// Attaches files to a run, all or none: each blob must count as present for the caller (the version-declare rule),
    /// have been uploaded into this model (within <see cref="RegistryOptions.UploadSessionTtl"/>), or already be a file
    /// of a run of the model; otherwise 409 <c>blobs_missing</c> lists the digests. A path attached again is replaced.
    /// Running and ended runs take files; deleted ones are <c>run_not_found</c>. Answers every file of the run.
    /// </summary>
    public async Task<RunFileList> AttachAsync(Actor actor, string ns, string model, string id, AttachRunFilesRequest request, CancellationToken cancellationToken)
    {
        if (request.Files is null)
        {
            Fail.With(ErrorCodes.InvalidRequest, "Attaching needs a 'files' list.");
        }

        // The per-file rules of a version: paths, digests, sizes, media types, at most Registry:MaxFilesPerVersion.
        VersionRequestValidator.Validate(new CreateVersionRequest(request.Files), options.Value, Names.DefaultStages);
        var (runId, _) = await runs.FindAsync(ns, model, id, cancellationToken);
        var modelId = await db.Runs.Where(r => r.Id == runId).Select(r => r.ModelId).SingleAsync(cancellationToken);
        var files = request.Files.GroupBy(f => f.Path, StringComparer.Ordinal).Select(g => g.Last()).ToList();
        var paths = files.Select(f => f.Path).ToHashSet(StringComparer.Ordinal);

        // The run's files afterwards must still materialise alike everywhere (no 'a' beside 'A', no file that is a folder).
        var kept = await db.RunFiles.AsNoTracking().Where(f => f.RunId == runId).Select(f => f.Path).ToListAsync(cancellationToken);
        var after = kept.Where(p => !paths.Contains(p)).Concat(paths).ToList();
        if (after.Count > options.Value.MaxFilesPerVersion)
        {
            Fail.With(ErrorCodes.TooManyFiles, $"A run may hold at most {options.Value.MaxFilesPerVersion} files on this server (as a version); it would hold {after.Count}.",
                new Dictionary<string, object?> { ["limit"] = options.Value.MaxFilesPerVersion, ["files"] = after.Count });
        }

        if (FilePaths.Validate(after) is { } clash)
        {
            Fail.With(ErrorCodes.InvalidPath, clash.Message, new Dictionary<string, object?> { ["paths"] = clash.Paths });
        }

        var digests = files.Select(f => f.Digest).Distinct(StringComparer.Ordinal).ToList();
        var now = clock.GetUtcNow().UtcDateTime;
        var present = await presence.PresentAsync(actor, digests, cancellationToken);
        present.UnionWith(await presence.UploadedIntoAsync(modelId, digests, now - options.Value.UploadSessionTtl, cancellationToken));
        present.UnionWith(await db.RunFiles.AsNoTracking()
            .Where(f => digests.Contains(f.Digest) && db.Runs.Any(r => r.Id == f.RunId && r.ModelId == modelId && r.DeletedAt == null))
            .Select(f => f.Digest).Distinct().ToListAsync(cancellationToken));
        Missing(digests.Where(d => !present.Contains(d)).ToList(), digests.Count);

        await db.InTransactionWithRetryAsync(async ct =>
        {
            var run = await db.LockedRow<Run>(runId).SingleAsync(ct);
            if (run.DeletedAt is not null)
            {
                throw RunService.NotFound(ns, model, id);
            }

            // First mark the blobs used (garbage collection re-checks that as it marks, and this row write orders the two),
            // then make sure each is still stored, not being collected, with the declared size.
            await db.Blobs.Where(b => digests.Contains(b.Digest) && b.DeletingAt == null)
                .ExecuteUpdateAsync(s => s.SetProperty(b => b.LastUsedAt, now), ct);
            var stored = await db.Blobs.AsNoTracking().Where(b => digests.Contains(b.Digest) && b.DeletingAt == null)
                .ToDictionaryAsync(b => b.Digest, b => b.Size, StringComparer.Ordinal, ct);
            Missing(digests.Where(d => !stored.ContainsKey(d)).ToList(), digests.Count);
            var wrong = files.Where(f => stored[f.Digest] != f.Size).OrderBy(f => f.Path, StringComparer.Ordinal).Take(FilePaths.MaxListedPaths).ToList();
            if (wrong.Count > 0)
            {
                var first = wrong[0];
                Fail.With(ErrorCodes.SizeMismatch, $"File '{first.Path}' was declared with {first.Size} bytes but blob {first.Digest} has {stored[first.Digest]}.",
                    new Dictionary<string, object?> { ["paths"] = wrong.Select(f => f.Path).ToList() });
            }

            var replaced = paths.ToList();
            await db.RunFiles.Where(f => f.RunId == runId && replaced.Contains(f.Path)).ExecuteDeleteAsync(ct);
            db.RunFiles.AddRange(files.Select(f => new RunFile { RunId = runId, Path = f.Path, Size = f.Size, Digest = f.Digest, MediaType = f.MediaType, AttachedAt = now }));
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        var all = await db.RunFiles.AsNoTracking().Where(f => f.RunId == runId).ToListAsync(cancellationToken);
        return new RunFileList(all.OrderBy(f => f.Path, StringComparer.Ordinal).Select(ToInfo).ToList());
    }

    private static void Missing(List<string> missing, int total)
    {
        if (missing.Count > 0)
        {
            Fail.With(ErrorCodes.BlobsMissing, $"{missing.Count} of {total} blobs are not there for you: upload them into this model (POST .../uploads), then attach again. Nothing was attached.",
                new Dictionary<string, object?> { ["missing"] = missing });
        }
    }

    /// <summary>A page of a run's files in path order.</summary>
    public async Task<Page<RunFileInfo>> ListAsync(string ns, string model, string id, Paging paging, CancellationToken cancellationToken)
    {
        var (runId, _) = await runs.FindAsync(ns, model, id, cancellationToken);
        var after = paging.AfterString() ?? "";
        var rows = await db.RunFiles.AsNoTracking()
            .Where(f => f.RunId == runId && string.Compare(f.Path, after) > 0)
            .OrderBy(f => f.Path).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, f => f.Path);
        return new Page<RunFileInfo>(page.Items.Select(ToInfo).ToList(), page.NextCursor);
    }

    /// <summary>One file of a run (404 <c>file_not_found</c>; 409 <c>blob_corrupt</c> when a scrub quarantined its bytes).</summary>
    public async Task<FileEntry> GetFileAsync(string ns, string model, string id, string path, CancellationToken cancellationToken)
    {
        Fail.If(FilePaths.Check(path), ErrorCodes.InvalidPath);
        var (runId, _) = await runs.FindAsync(ns, model, id, cancellationToken);
        var row = await db.RunFiles.AsNoTracking().Where(f => f.RunId == runId && f.Path == path)
            .Select(f => new { File = f, Quarantined = db.Blobs.Any(b => b.Digest == f.Digest && b.QuarantinedAt != null) })
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw Fail.Error(ErrorCodes.FileNotFound, $"Run '{id}' of {ns}/{model} has no file '{path}'.");
        if (row.Quarantined)
        {
            throw Fail.Error(ErrorCodes.BlobCorrupt,
                $"Run '{id}': the stored bytes of '{path}' ({row.File.Digest}) are missing or corrupt, so the blob is quarantined and nothing is served. " +
                "A server administrator restores it from a backup and runs 'berth fsck' again.",
                new Dictionary<string, object?> { ["digest"] = row.File.Digest, ["path"] = path });
        }

        return new FileEntry(row.File.Path, row.File.Size, row.File.Digest, row.File.MediaType);
    }

    /// <summary>
    /// Registers the run as a ready version of its model from its files (all, or those under <see cref="RegisterRunRequest.Path"/>,
    /// with that prefix stripped): declared and committed through <see cref="VersionService"/>, with the run's files
    /// counting as present, so nothing is uploaded. Lineage: the run, its git repository, commit and dirty flag, its
    /// datasets. Params and metrics: the run's params and final metric values (NaN and infinities left out), with the
    /// request's added or replacing those of the same name. 400 <c>empty_selection</c> when no file is selected.
    /// </summary>
    public async Task<VersionInfo> RegisterAsync(Actor actor, string ns, string model, string id, RegisterRunRequest request, CancellationToken cancellationToken)
    {
        var prefix = Prefix(request.Path);
        var (runId, _) = await runs.FindAsync(ns, model, id, cancellationToken);
        var run = await db.Runs.AsNoTracking().AsSplitQuery()
            .Include(r => r.Params).Include(r => r.Datasets).Include(r => r.Metrics)
            .OrderBy(r => r.Id).SingleAsync(r => r.Id == runId, cancellationToken);
        var all = await db.RunFiles.AsNoTracking().Where(f => f.RunId == runId).ToListAsync(cancellationToken);
        var selected = all.Where(f => prefix.Length == 0 || f.Path.StartsWith(prefix, StringComparison.Ordinal))
            .OrderBy(f => f.Path, StringComparer.Ordinal)
            .Select(f => new FileEntry(f.Path[prefix.Length..], f.Size, f.Digest, f.MediaType)).ToList();
        if (selected.Count == 0)
        {
            Fail.With(ErrorCodes.EmptySelection, prefix.Length == 0
                    ? $"Run '{id}' has no files to register: attach them first (berth run files)."
                    : $"Run '{id}' has no file under '{prefix}'{(all.Count > 0 ? $" (it has {all.Count} files elsewhere)" : "")}; nothing was registered.",
                new Dictionary<string, object?> { ["path"] = request.Path });
        }

        var metrics = run.Metrics.Where(m => m.Last is { } last && double.IsFinite(last)).ToDictionary(m => m.Key, m => m.Last!.Value, StringComparer.Ordinal);
        foreach (var (key, value) in request.Metrics ?? new Dictionary<string, double>())
        {
            metrics[key] = value;
        }

        var parameters = run.Params.ToDictionary(p => p.Name, p => p.Value, StringComparer.Ordinal);
        foreach (var (key, value) in request.Params ?? new Dictionary<string, string>())
        {
            parameters[key] = value;
        }

        var lineage = new Lineage(
            run.PublicId,
            run.GitRepository,
            run.GitCommit,
            run.Datasets.Count == 0 ? null : run.Datasets.OrderBy(d => d.Ordinal).Select(d => new DatasetRef(d.Uri, d.Digest)).ToList(),
            Parents: null,
            GitDirty: run.GitDirty);
        var declaration = new CreateVersionRequest(selected, request.Version, request.Description,
            metrics.Count > 0 ? metrics : null, parameters.Count > 0 ? parameters : null, request.Tags, request.Aliases, lineage);
        var stored = selected.Select(f => f.Digest).ToHashSet(StringComparer.Ordinal);
        var created = await versions.CreateAsync(actor, ns, model, declaration, stored, cancellationToken);
        var number = created.Version.Number.ToString(CultureInfo.InvariantCulture);
        try
        {
            return await versions.CommitAsync(actor, ns, model, number, cancellationToken);
        }
        catch (RegistryException)
        {
            // A registration is one step for its caller: a version that could not be made ready does not stay pending.
            await versions.AbandonAsync(ns, model, created.Version.Number, "registering the run failed", CancellationToken.None);
            throw;
        }
    }

    /// <summary>The folder prefix to select (with its trailing '/'), or "" for every file; 400 <c>invalid_path</c> for a bad one.</summary>
    private static string Prefix(string? path)
    {
        if (path is null)
        {
            return "";
        }

        var trimmed = path.EndsWith('/') ? path[..^1] : path;
        if (trimmed.Length == 0 && path.Length <= 1)
        {
            return "";
        }

        if (FilePaths.Check(trimmed) is { } problem)
        {
            Fail.With(ErrorCodes.InvalidPath, $"path: {problem}", new Dictionary<string, object?> { ["paths"] = new[] { path } });
        }

        return trimmed + "/";
    }

    private static RunFileInfo ToInfo(RunFile f) => new(f.Path, f.Size, f.Digest, f.MediaType, DtoMapper.Utc(f.AttachedAt));
}
