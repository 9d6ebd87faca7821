using System.Text;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Events;
using Berth.Core.Governance;
using Berth.Core.Insight.Service;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Registry;

/// <summary>
/// Versions: declaring them (pending), committing them (ready once every blob is stored), reading,
/// listing, editing their mutable metadata and deleting them.
/// </summary>
public sealed class VersionService(
    RegistryDbContext db,
    ModelLookup lookup,
    ModelService models,
    LifecycleService lifecycle,
    StagePolicies policies,
    BlobPresence presence,
    NamespaceUsage namespaceUsage,
    AuditTrail audit,
    EventLog events,
    InsightCommit insight,
    IOptions<RegistryOptions> options,
    TimeProvider clock)
{
    /// <summary>File rows written per transaction while a version is declared: other writes wait for one batch at most.</summary>
    internal const int FileBatchSize = 2000;

    /// <summary>
    /// Declares a version. Creates the namespace and model on first push. Answers with the pending version and the
    /// digests the caller must upload: those that do not count as present for it (<see cref="BlobPresence"/>).
    /// Repeating the same push (same semantic version, same files, same user) while it is pending resumes it instead of
    /// failing, also when the first declaration broke off half-way.
    /// </summary>
    /// <remarks>
    /// The version row is written in one short transaction (which also checks and charges the namespace's quota, under
    /// its row lock), then its files in batches of <see cref="FileBatchSize"/>, each its own transaction: a declaration of
    /// 100,000 files never holds the database's write lock for more than one batch. Until every batch is written, the
    /// version cannot be committed (its file count is short); a repeated declaration writes the rest.
    /// </remarks>
    public Task<CreateVersionResponse> CreateAsync(Actor actor, string ns, string model, CreateVersionRequest request, CancellationToken cancellationToken) =>
        CreateAsync(actor, ns, model, request, stored: null, cancellationToken);

    /// <summary>
    /// As <see cref="CreateAsync(Actor, string, string, CreateVersionRequest, CancellationToken)"/>; the digests in
    /// <paramref name="stored"/> count as present for the caller too (a run's files, which a writer of its model
    /// registers: their bytes were verified when they were attached).
    /// </summary>
    internal async Task<CreateVersionResponse> CreateAsync(Actor actor, string ns, string model, CreateVersionRequest request, IReadOnlySet<string>? stored, CancellationToken cancellationToken)
    {
        ModelLookup.ValidateNames(ns, model);
        var existingSpace = await db.Namespaces.AsNoTracking().FirstOrDefaultAsync(n => n.Name == ns, cancellationToken);
        var existingModel = existingSpace is null ? null : await db.Models.AsNoTracking().Where(m => m.NamespaceId == existingSpace.Id && m.Name == model).Select(m => (long?)m.Id).FirstOrDefaultAsync(cancellationToken);
        var stages = existingSpace is null ? Names.DefaultStages : await policies.StageNamesAsync(existingSpace.Id, existingModel, cancellationToken);
        VersionRequestValidator.Validate(request, options.Value, stages);

        var files = request.Files;
        var manifest = VersionManifest.Serialize(files);
        var manifestDigest = Digest.Compute(manifest).ToString();
        var semver = request.Version is null ? null : (SemanticVersion.TryParse(request.Version, out var parsed) ? parsed.ToString() : null);
        var parents = await ResolveParentsAsync(ns, request.Lineage?.Parents, cancellationToken);
        var digests = files.Select(f => f.Digest).Distinct(StringComparer.Ordinal).ToList();
        await CheckRunAsync(ns, model, request.Lineage?.RunId, cancellationToken);
        var present = await presence.PresentAsync(actor, digests, cancellationToken);
        present.UnionWith(digests.Where(d => stored?.Contains(d) == true));
        var totalSize = files.Sum(f => f.Size);

        var (versionId, resumed) = await db.InTransactionWithRetryAsync(async ct =>
        {
            // The namespace's row lock first: it orders this transaction with every other that changes the namespace's usage.
            var space = await models.EnsureNamespaceAsync(actor, ns, ct);
            var usage = await namespaceUsage.LockAsync(space.Id, ct);
            var entity = await models.EnsureModelAsync(actor, ns, model, ct);
            await lifecycle.EnsureNotProtectedAsync(entity, request.Aliases ?? [], ct);
            if (semver is not null)
            {
                var clash = await db.Versions.AsNoTracking()
                    .Where(v => v.ModelId == entity.Id && v.SemVer == semver)
                    .Select(v => new { v.Id, v.Number, v.State, v.ManifestDigest, v.CreatedById })
                    .FirstOrDefaultAsync(ct);
                if (clash is { State: VersionState.Pending } && clash.ManifestDigest == manifestDigest && clash.CreatedById == actor.UserId)
                {
                    return (clash.Id, true);
                }

                if (clash is not null)
                {
                    Fail.With(ErrorCodes.VersionExists, $"'{ns}/{model}' already has version {semver} (number {clash.Number}, {DtoMapper.StateName(clash.State)}); semantic versions are never reused.",
                        new Dictionary<string, object?> { ["number"] = clash.Number });
                }
            }

            NamespaceUsage.Check(ns, usage, totalSize);
            await db.Models.Where(m => m.Id == entity.Id)
                .ExecuteUpdateAsync(s => s.SetProperty(m => m.LastVersionNumber, m => m.LastVersionNumber + 1), ct);
            var number = await db.Models.Where(m => m.Id == entity.Id).Select(m => m.LastVersionNumber).SingleAsync(ct);
            var now = clock.GetUtcNow().UtcDateTime;
            var version = new ModelVersion
            {
                ModelId = entity.Id,
                Number = number,
                SemVer = semver,
                ManifestDigest = manifestDigest,
                Manifest = manifest,
                State = VersionState.Pending,
                Description = string.IsNullOrEmpty(request.Description) ? null : request.Description,
                TotalSize = totalSize,
                FileCount = files.Count,
                CreatedAt = now,
                CreatedById = actor.UserId,
                Revision = 1,
                RunId = request.Lineage?.RunId,
                GitRepository = request.Lineage?.GitRepository,
                GitCommit = request.Lineage?.GitCommit?.ToLowerInvariant(),
                GitDirty = request.Lineage?.GitDirty,
                PendingAliases = request.Aliases is { Count: > 0 } aliases ? string.Join(',', aliases.Distinct(StringComparer.Ordinal)) : null,
                Metrics = (request.Metrics ?? new Dictionary<string, double>()).Select(m => new VersionMetric { Name = m.Key, Value = m.Value, Pushed = m.Value }).ToList(),
                Params = (request.Params ?? new Dictionary<string, string>()).Select(p => new VersionParam { Name = p.Key, Value = p.Value }).ToList(),
                Tags = (request.Tags ?? new Dictionary<string, string>()).Select(t => new VersionTag { Key = t.Key, Value = t.Value }).ToList(),
                Datasets = (request.Lineage?.Datasets ?? []).Select((d, i) => new VersionDataset { Ordinal = i, Uri = d.Uri, Digest = d.Digest }).ToList(),
                Parents = parents.Select((id, i) => new VersionParent { Ordinal = i, ParentVersionId = id }).ToList(),
            };
            db.Versions.Add(version);
            entity.UpdatedAt = now;
            audit.Record("version.create", ns, $"{ns}/{model}:{number}", new Dictionary<string, object?>
            {
                ["semver"] = semver,
                ["digest"] = manifestDigest,
                ["files"] = files.Count,
                ["bytes"] = totalSize,
            });
            events.Publish(EventTypes.VersionCreated, EventSubject.Of(entity), number, data: new Dictionary<string, object?>
            {
                ["semver"] = semver,
                ["digest"] = manifestDigest,
                ["files"] = files.Count,
                ["bytes"] = totalSize,
            });
            await db.SaveChangesAsync(ct);
            await namespaceUsage.AddAsync(space.Id, totalSize, 1, ct);
            return (version.Id, false);
        }, cancellationToken);
        db.ChangeTracker.Clear();

        await WriteFilesAsync(versionId, files, present, resumed, cancellationToken);
        IReadOnlyList<string> missing = resumed
            ? await StillNeededAsync(versionId, present, cancellationToken)
            : digests.Where(d => !present.Contains(d)).ToList();
        var info = await GetByIdAsync(versionId, withFiles: false, cancellationToken);
        return new CreateVersionResponse(info, missing);
    }

    /// <summary>
    /// Writes the version's file rows, <see cref="FileBatchSize"/> per transaction, each batch as one multi-row
    /// <c>INSERT</c> (rows already there, from a declaration that broke off, stay); a file whose blob does not count as
    /// present for the declaring caller waits for its upload (<see cref="VersionFile.NeedsUpload"/>). Each batch also
    /// records that the push uses its blobs (see <see cref="TouchBlobsAsync"/>).
    /// </summary>
    private async Task WriteFilesAsync(long versionId, IReadOnlyList<FileEntry> files, HashSet<string> present, bool resumed, CancellationToken cancellationToken)
    {
        if (resumed && await db.VersionFiles.CountAsync(f => f.VersionId == versionId, cancellationToken) == files.Count)
        {
            return;
        }

        var first = true;
        foreach (var batch in files.Chunk(FileBatchSize))
        {
            if (!first && db.Dialect.WriterHandOff > TimeSpan.Zero)
            {
                await Task.Delay(db.Dialect.WriterHandOff, cancellationToken);
            }

            first = false;
            // Statements of a hundred rows: SQLite finds a named parameter by a linear search, so thousands in one statement
            // would cost more than the statements.
            var statements = batch.Chunk(RowsPerStatement).Select(rows => InsertFiles(versionId, rows, present)).ToList();
            await db.InTransactionWithRetryAsync(async ct =>
            {
                foreach (var (text, values) in statements)
                {
                    await db.Database.ExecuteSqlRawAsync(text, values, ct);
                }

                await TouchBlobsAsync(batch.Select(f => f.Digest).Distinct(StringComparer.Ordinal).ToList(), clock.GetUtcNow().UtcDateTime, ct);
                return true;
            }, cancellationToken);
        }
    }

    private const int RowsPerStatement = 100;

    /// <summary>
    /// One multi-row <c>INSERT</c> of file rows (rows already there stay). Identifiers and numbers are the server's own;
    /// paths, digests and media types go as parameters.
    /// </summary>
    private static (string Text, List<object> Values) InsertFiles(long versionId, FileEntry[] rows, HashSet<string> present)
    {
        var sql = new StringBuilder("INSERT INTO \"version_files\" (\"version_id\", \"size\", \"needs_upload\", \"path\", \"digest\", \"media_type\") VALUES ");
        var values = new List<object>(rows.Length * 3);
        for (var i = 0; i < rows.Length; i++)
        {
            var file = rows[i];
            sql.Append(i == 0 ? "(" : ", (").Append(versionId).Append(", ").Append(file.Size).Append(present.Contains(file.Digest) ? ", FALSE, " : ", TRUE, ");
            Parameter(sql, values, file.Path).Append(", ");
            Parameter(sql, values, file.Digest).Append(", ");
            (file.MediaType is null ? sql.Append("NULL") : Parameter(sql, values, file.MediaType)).Append(')');
        }

        return (sql.Append(" ON CONFLICT DO NOTHING").ToString(), values);
    }

    private static StringBuilder Parameter(StringBuilder sql, List<object> values, string value)
    {
        sql.Append('{').Append(values.Count).Append('}');
        values.Add(value);
        return sql;
    }

    /// <summary>
    /// For a resumed declaration: the digests the version still waits for, after forgetting those that count as present
    /// for the caller by now (e.g. another version with them became ready meanwhile).
    /// </summary>
    private async Task<IReadOnlyList<string>> StillNeededAsync(long versionId, HashSet<string> present, CancellationToken cancellationToken)
    {
        if (present.Count > 0)
        {
            var known = present.ToList();
            await db.VersionFiles.Where(f => f.VersionId == versionId && f.NeedsUpload && known.Contains(f.Digest))
                .ExecuteUpdateAsync(s => s.SetProperty(f => f.NeedsUpload, false), cancellationToken);
        }

        return await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == versionId && f.NeedsUpload)
            .Select(f => f.Digest).Distinct().ToListAsync(cancellationToken);
    }

    /// <summary>
    /// Makes a pending version ready after checking that every file's blob was uploaded for it or could be read by its
    /// declarer (<see cref="VersionFile.NeedsUpload"/>) and is stored with the declared size, and applies the aliases
    /// requested at push time. Committing a ready version again is a no-op.
    /// </summary>
    public async Task<VersionInfo> CommitAsync(Actor actor, string ns, string model, string selector, CancellationToken cancellationToken)
    {
        var parsed = ModelLookup.ParseSelector(selector);
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var id = await lookup.ResolveIdAsync(entity, parsed, allowAnyState: true, cancellationToken);
        for (var attempt = 1; ; attempt++)
        {
            var version = await db.Versions.FirstAsync(v => v.Id == id, cancellationToken);
            if (version.State == VersionState.Ready)
            {
                return await GetByIdAsync(id, withFiles: false, cancellationToken);
            }

            if (version.State != VersionState.Pending)
            {
                Fail.With(ErrorCodes.VersionNotPending, $"Version {ns}/{model}:{version.Number} is {DtoMapper.StateName(version.State)}; push it again.");
            }

            await CheckFilesAsync(ns, model, version, cancellationToken);
            await RefuseDangerousAsync(ns, model, entity.NamespaceId, version, cancellationToken);
            try
            {
                await db.InTransactionWithRetryAsync(async ct =>
                {
                    var now = clock.GetUtcNow().UtcDateTime;
                    version.State = VersionState.Ready;
                    version.ReadyAt = now;
                    version.Revision++;
                    var aliases = version.PendingAliases?.Split(',', StringSplitOptions.RemoveEmptyEntries) ?? [];
                    if (aliases.Length > 0)
                    {
                        // Before the audit entry is saved: saving it locks the audit chain's head until the end.
                        await lifecycle.LockModelAsync(entity.Id, ct);
                    }

                    version.PendingAliases = null;
                    audit.Record("version.commit", ns, $"{ns}/{model}:{version.Number}", new Dictionary<string, object?> { ["digest"] = version.ManifestDigest });
                    events.Publish(EventTypes.VersionReady, EventSubject.Of(entity), version.Number, data: new Dictionary<string, object?>
                    {
                        ["semver"] = version.SemVer,
                        ["digest"] = version.ManifestDigest,
                        ["files"] = version.FileCount,
                        ["bytes"] = version.TotalSize,
                        ["stage"] = version.Stage,
                        ["aliases"] = aliases,
                    });
                    if (version.RunId is { } run)
                    {
                        // A version whose lineage names a run of the model was registered from it (berth run register, or push --run).
                        audit.Record("run.register", ns, $"{ns}/{model}/runs/{run}", new Dictionary<string, object?> { ["version"] = version.Number, ["semver"] = version.SemVer });
                        events.Publish(EventTypes.RunRegistered, EventSubject.Of(entity), version.Number, data: new Dictionary<string, object?>
                        {
                            ["run"] = run,
                            ["version"] = version.Number,
                            ["semver"] = version.SemVer,
                        });
                    }

                    insight.Queue(version.Id);
                    await db.SaveChangesAsync(ct);
                    await lifecycle.PointPushedAliasesAsync(actor, entity, version, aliases, ct);

                    return true;
                }, cancellationToken);
                insight.Offer(id);
                return await GetByIdAsync(id, withFiles: false, cancellationToken);
            }
            catch (DbUpdateConcurrencyException) when (attempt < 3)
            {
                // Another commit of the same version won; the next round sees it ready.
                db.ChangeTracker.Clear();
            }
        }
    }

    /// <summary>
    /// Under its namespace's scan policy <c>block</c>, a version with a file that runs code when loaded never becomes
    /// ready: it fails at once (releasing its semantic version and quota) and the commit is refused with
    /// <c>unsafe_model</c>, naming each such file and its globals.
    /// </summary>
    private async Task RefuseDangerousAsync(string ns, string model, long namespaceId, ModelVersion version, CancellationToken cancellationToken)
    {
        var dangerous = await insight.DangerousFilesAsync(namespaceId, version.Id, cancellationToken);
        if (dangerous.Count == 0)
        {
            return;
        }

        var (message, extensions) = InsightCommit.Refusal($"{ns}/{model}:{version.Number}", dangerous);
        await AbandonAsync(ns, model, version.Number, message, cancellationToken);
        Fail.With(ErrorCodes.UnsafeModel, message, extensions);
    }

    /// <summary>
    /// What a commit needs, checked by the database a set at a time: every file row written (the declaration finished),
    /// no file still waiting for its upload, every blob stored (and not being collected) with the declared size.
    /// </summary>
    private async Task CheckFilesAsync(string ns, string model, ModelVersion version, CancellationToken cancellationToken)
    {
        var id = version.Id;
        var written = await db.VersionFiles.CountAsync(f => f.VersionId == id, cancellationToken);
        if (written != version.FileCount)
        {
            Fail.With(ErrorCodes.Conflict, $"The declaration of {ns}/{model}:{version.Number} broke off after {written} of its {version.FileCount} files; declare the version again (the same push) to finish it, then commit.");
        }

        var missing = await db.VersionFiles.AsNoTracking()
            .Where(f => f.VersionId == id && (f.NeedsUpload || !db.Blobs.Any(b => b.Digest == f.Digest && b.DeletingAt == null)))
            .Select(f => f.Digest).Distinct().ToListAsync(cancellationToken);
        if (missing.Count > 0)
        {
            var total = await db.VersionFiles.Where(f => f.VersionId == id).Select(f => f.Digest).Distinct().CountAsync(cancellationToken);
            Fail.With(ErrorCodes.BlobsMissing, $"{missing.Count} of {total} blobs have not been uploaded for this version; upload them and commit again.",
                new Dictionary<string, object?> { ["missing"] = missing });
        }

        var wrong = await db.VersionFiles.AsNoTracking()
            .Where(f => f.VersionId == id)
            .Join(db.Blobs, f => f.Digest, b => b.Digest, (f, b) => new { f.Path, f.Size, f.Digest, Stored = b.Size })
            .Where(r => r.Stored != r.Size)
            .OrderBy(r => r.Path).Take(FilePaths.MaxListedPaths).ToListAsync(cancellationToken);
        if (wrong.Count > 0)
        {
            var first = wrong[0];
            Fail.With(ErrorCodes.SizeMismatch, $"File '{first.Path}' was declared with {first.Size} bytes but blob {first.Digest} has {first.Stored}; push again with the right size.",
                new Dictionary<string, object?> { ["paths"] = wrong.Select(f => f.Path).ToList() });
        }
    }

    /// <summary>
    /// Fails a pending version at once (as maintenance does with one not committed in time): it releases its semantic
    /// version and its share of the namespace's usage. A version that is no longer pending is left alone.
    /// </summary>
    internal async Task AbandonAsync(string ns, string model, int number, string reason, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            await namespaceUsage.LockAsync(entity.NamespaceId, ct);
            var version = await db.Versions.Include(v => v.Model).ThenInclude(m => m.Namespace)
                .SingleAsync(v => v.ModelId == entity.Id && v.Number == number, ct);
            if (version.State != VersionState.Pending)
            {
                return false;
            }

            audit.Record("version.fail", ns, $"{ns}/{model}:{number}", new Dictionary<string, object?> { ["reason"] = reason, ["semver"] = version.SemVer });
            events.Publish(EventTypes.VersionFailed, EventSubject.Of(version.Model), number,
                data: new Dictionary<string, object?> { ["reason"] = reason, ["semver"] = version.SemVer });
            version.State = VersionState.Failed;
            version.SemVer = null;
            version.Revision++;
            await db.SaveChangesAsync(ct);
            if (version.Model.DeletedAt is null)
            {
                await namespaceUsage.AddAsync(entity.NamespaceId, -version.TotalSize, -1, ct);
            }

            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
    }

    /// <summary>A version by selector; asked for by manifest digest, it also names the other versions with that content.</summary>
    public async Task<VersionInfo> GetAsync(string ns, string model, string selector, bool withFiles, CancellationToken cancellationToken)
    {
        var parsed = ModelLookup.ParseSelector(selector);
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var id = await lookup.ResolveIdAsync(entity, parsed, allowAnyState: true, cancellationToken);
        var version = await GetByIdAsync(id, withFiles, cancellationToken);
        return parsed.Kind == SelectorKind.Digest
            ? version with { SameContent = await lookup.SameContentAsync(entity.Id, version.ManifestDigest, id, cancellationToken) }
            : version;
    }

    /// <summary>Resolves a selector to a version id; only ready versions unless <paramref name="allowAnyState"/>.</summary>
    public async Task<long> ResolveAsync(string ns, string model, string selector, bool allowAnyState, CancellationToken cancellationToken)
    {
        var parsed = ModelLookup.ParseSelector(selector);
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        return await lookup.ResolveIdAsync(entity, parsed, allowAnyState, cancellationToken);
    }

    /// <summary>Resolves a selector to a version's id and number (to pin a moving selector before an update).</summary>
    public async Task<(long Id, int Number)> ResolveNumberAsync(string ns, string model, string selector, bool allowAnyState, CancellationToken cancellationToken)
    {
        var id = await ResolveAsync(ns, model, selector, allowAnyState, cancellationToken);
        var number = await db.Versions.Where(v => v.Id == id).Select(v => v.Number).SingleAsync(cancellationToken);
        return (id, number);
    }

    /// <summary>
    /// The id of version <paramref name="number"/> in any state, deleted ones included (selectors answer 410 for those; the
    /// web UI still shows a deleted version's page, marked as deleted, with its history).
    /// </summary>
    public async Task<long> ResolveIncludingDeletedAsync(string ns, string model, int number, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        return await db.Versions.Where(v => v.ModelId == entity.Id && v.Number == number).Select(v => (long?)v.Id).FirstOrDefaultAsync(cancellationToken)
            ?? throw Fail.Error(ErrorCodes.VersionNotFound, $"Version '{ns}/{model}:{number}' does not exist.");
    }

    public async Task<VersionInfo> GetByIdAsync(long id, bool withFiles, CancellationToken cancellationToken)
    {
        var query = db.Versions.AsNoTracking().Where(v => v.Id == id).WithDetails();
        if (withFiles)
        {
            query = query.Include(v => v.Files);
        }

        var info = DtoMapper.ToInfo(await query.OrderBy(v => v.Id).SingleAsync(cancellationToken), withFiles);
        var quarantined = await QuarantinedFilesAsync(id, cancellationToken);
        return quarantined.Count == 0 ? info : info with { QuarantinedFiles = quarantined };
    }

    /// <summary>Versions of a model, newest first. Only ready ones unless <paramref name="allStates"/>.</summary>
    public async Task<Page<VersionInfo>> ListAsync(string ns, string model, bool allStates, Paging paging, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var before = paging.AfterNumber() ?? int.MaxValue;
        var query = db.Versions.AsNoTracking().Where(v => v.ModelId == entity.Id && v.Number < before);
        if (!allStates)
        {
            query = query.Visible();
        }

        var rows = await query.OrderByDescending(v => v.Number).Take(paging.Limit + 1).WithDetails().ToListAsync(cancellationToken);
        var page = paging.Page(rows, v => v.Number);
        return new Page<VersionInfo>(page.Items.Select(v => DtoMapper.ToInfo(v, false)).ToList(), page.NextCursor);
    }

    /// <summary>Edits the mutable metadata of a ready version: description and tags.</summary>
    public async Task<VersionInfo> UpdateAsync(string ns, string model, string selector, UpdateVersionRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        NamespaceService.CheckDescription(request.Description);
        var set = ModelService.ValidateTags(request.SetTags);
        var remove = request.RemoveTags ?? [];
        foreach (var key in remove)
        {
            Fail.If(Names.CheckKey("tag", key), ErrorCodes.InvalidMetadata);
        }

        var id = await ResolveAsync(ns, model, selector, allowAnyState: false, cancellationToken);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var version = await db.Versions.Include(v => v.Tags).SingleAsync(v => v.Id == id, ct);
            var what = $"Version {ns}/{model}:{version.Number}";
            Revisions.Check(expectedRevision, version.Revision, what);
            var before = new Dictionary<string, object?> { ["description"] = version.Description, ["tags"] = version.Tags.ToDictionary(t => t.Key, t => t.Value) };
            if (request.Description is not null)
            {
                version.Description = request.Description.Length == 0 ? null : request.Description;
            }

            version.Tags.RemoveAll(t => remove.Contains(t.Key, StringComparer.Ordinal) || set.ContainsKey(t.Key));
            version.Tags.AddRange(set.Select(t => new VersionTag { Key = t.Key, Value = t.Value }));
            if (version.Tags.Count > VersionRequestValidator.MaxEntries)
            {
                Fail.With(ErrorCodes.InvalidMetadata, $"A version may have at most {VersionRequestValidator.MaxEntries} tags.");
            }

            version.Revision++;
            var after = new Dictionary<string, object?> { ["description"] = version.Description, ["tags"] = version.Tags.ToDictionary(t => t.Key, t => t.Value) };
            audit.Record("version.update", ns, $"{ns}/{model}:{version.Number}", new Dictionary<string, object?> { ["before"] = before, ["after"] = after });
            events.Publish(EventTypes.VersionUpdated, EventSubject.Of(await lookup.GetModelAsync(ns, model, ct)), version.Number, before, after);
            await Revisions.SaveAsync(db, what, ct);
            return true;
        }, cancellationToken);
        return await GetByIdAsync(id, withFiles: false, cancellationToken);
    }

    /// <summary>Soft delete: the version leaves pulls, listings and selectors, its aliases are removed, history keeps it.</summary>
    public async Task<VersionInfo> DeleteAsync(Actor actor, string ns, string model, string selector, long? expectedRevision, CancellationToken cancellationToken)
    {
        var parsed = ModelLookup.ParseSelector(selector);
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var id = await lookup.ResolveIdAsync(entity, parsed, allowAnyState: true, cancellationToken);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            // The usage lock first, then the states it depends on: a model deleted meanwhile already released its versions.
            await namespaceUsage.LockAsync(entity.NamespaceId, ct);
            if (!await db.Models.AnyAsync(m => m.Id == entity.Id && m.DeletedAt == null, ct))
            {
                Fail.With(ErrorCodes.ModelNotFound, $"Model '{ns}/{model}' does not exist.");
            }

            var version = await db.Versions.SingleAsync(v => v.Id == id, ct);
            var what = $"Version {ns}/{model}:{version.Number}";
            Revisions.Check(expectedRevision, version.Revision, what);
            await SoftDeleteAsync(actor, entity, version, ct);
            return true;
        }, cancellationToken);
        return await GetByIdAsync(id, withFiles: false, cancellationToken);
    }

    /// <summary>
    /// Soft-deletes a tracked version in the caller's transaction: removes its aliases, cancels its open requests,
    /// records history, audit and event, saves, and releases the version's share of its namespace's usage. The caller
    /// holds the namespace's usage lock (<see cref="NamespaceUsage.LockAsync"/>) and read <paramref name="model"/> under it
    /// (a model deleted meanwhile released its versions already); <paramref name="model"/> carries its namespace.
    /// </summary>
    internal async Task SoftDeleteAsync(Actor actor, RegisteredModel model, ModelVersion version, CancellationToken cancellationToken)
    {
        var counted = model.DeletedAt is null && version.State is VersionState.Pending or VersionState.Ready;
        var ns = model.Namespace.Name;
        var now = clock.GetUtcNow().UtcDateTime;
        await lifecycle.RemoveAliasesOfAsync(actor, model, version, cancellationToken);
        await lifecycle.CancelOpenRequestsAsync(actor, model, version.Id, "the version was deleted", cancellationToken);
        version.State = VersionState.Deleted;
        version.DeletedAt = now;
        version.Revision++;
        db.History.Add(new ModelHistoryEntry
        {
            ModelId = model.Id,
            Kind = HistoryKind.Deleted,
            VersionId = version.Id,
            VersionNumber = version.Number,
            FromStage = version.Stage,
            ActorId = actor.IsUser ? actor.UserId : null,
            At = now,
        });
        audit.Record("version.delete", ns, $"{ns}/{model.Name}:{version.Number}", new Dictionary<string, object?> { ["stage"] = version.Stage, ["digest"] = version.ManifestDigest });
        events.Publish(EventTypes.VersionDeleted, EventSubject.Of(model), version.Number, data: new Dictionary<string, object?> { ["stage"] = version.Stage, ["digest"] = version.ManifestDigest });
        await db.SaveChangesAsync(cancellationToken);
        if (counted)
        {
            await namespaceUsage.AddAsync(model.NamespaceId, -version.TotalSize, -1, cancellationToken);
        }
    }

    /// <summary>The canonical manifest of a ready version, with its digest.</summary>
    public async Task<(byte[] Manifest, string Digest, int Number)> GetManifestAsync(string ns, string model, string selector, CancellationToken cancellationToken)
    {
        // The hot path of deployments ("what is acme/fraud:champion?"): one query when the selector is an alias.
        var parsed = ModelLookup.ParseSelector(selector);
        if (parsed.Kind == SelectorKind.Name)
        {
            ModelLookup.ValidateNames(ns, model);
            var hit = await ManifestByAlias.For(db)(db, ns, model, parsed.Text, cancellationToken);
            if (hit is not null)
            {
                return (hit.Manifest, hit.ManifestDigest, hit.Number);
            }
        }

        var id = await ResolveAsync(ns, model, selector, allowAnyState: false, cancellationToken);
        var row = await db.Versions.AsNoTracking().Where(v => v.Id == id)
            .Select(v => new { v.Manifest, v.ManifestDigest, v.Number }).SingleAsync(cancellationToken);
        return (row.Manifest, row.ManifestDigest, row.Number);
    }

    private static readonly PerModelQuery<Func<RegistryDbContext, string, string, string, CancellationToken, Task<ManifestRow?>>> ManifestByAlias = new(() =>
        EF.CompileAsyncQuery((RegistryDbContext context, string ns, string model, string alias, CancellationToken _) =>
            context.Aliases
                .Where(a => a.Name == alias && a.Version.Model.Name == model && a.Version.Model.Namespace.Name == ns &&
                            a.Version.Model.DeletedAt == null && a.Version.Model.Namespace.DeletedAt == null && a.Version.State == VersionState.Ready)
                .Select(a => new ManifestRow(a.Version.Manifest, a.Version.ManifestDigest, a.Version.Number))
                .FirstOrDefault()));

    private sealed record ManifestRow(byte[] Manifest, string ManifestDigest, int Number);

    /// <summary>The files of a ready version, ordered by path, paginated.</summary>
    public async Task<Page<FileEntry>> ListFilesAsync(string ns, string model, string selector, Paging paging, CancellationToken cancellationToken)
    {
        var id = await ResolveAsync(ns, model, selector, allowAnyState: false, cancellationToken);
        var after = paging.AfterString() ?? "";
        var rows = await db.VersionFiles.AsNoTracking()
            .Where(f => f.VersionId == id && string.Compare(f.Path, after) > 0)
            .OrderBy(f => f.Path).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, f => f.Path);
        return new Page<FileEntry>(page.Items.Select(DtoMapper.ToEntry).ToList(), page.NextCursor);
    }

    /// <summary>One file of a ready version (404 file_not_found when the version has no such path).</summary>
    public async Task<(FileEntry File, int Number)> GetFileAsync(string ns, string model, string selector, string path, CancellationToken cancellationToken)
    {
        Fail.If(FilePaths.Check(path), ErrorCodes.InvalidPath);
        var id = await ResolveAsync(ns, model, selector, allowAnyState: false, cancellationToken);
        var row = await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == id && f.Path == path)
            .Select(f => new
            {
                File = f,
                Number = db.Versions.Where(v => v.Id == id).Select(v => v.Number).Single(),
                Quarantined = db.Blobs.Any(b => b.Digest == f.Digest && b.QuarantinedAt != null),
            })
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw Fail.Error(ErrorCodes.FileNotFound, $"{ns}/{model}:{selector} has no file '{path}'.");
        if (row.Quarantined)
        {
            throw Quarantined($"{ns}/{model}:{row.Number}", row.File.Path, row.File.Digest);
        }

        return (DtoMapper.ToEntry(row.File), row.Number);
    }

    /// <summary>All files of a ready version in path order (for archives).</summary>
    public async Task<(int Number, DateTimeOffset CreatedAt, List<FileEntry> Files)> GetAllFilesAsync(string ns, string model, string selector, CancellationToken cancellationToken)
    {
        var id = await ResolveAsync(ns, model, selector, allowAnyState: false, cancellationToken);
        var version = await db.Versions.Where(v => v.Id == id).Select(v => new { v.Number, v.CreatedAt }).SingleAsync(cancellationToken);
        var files = await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == id).OrderBy(f => f.Path).ToListAsync(cancellationToken);
        var quarantined = await db.VersionFiles.AsNoTracking()
            .Where(f => f.VersionId == id && db.Blobs.Any(b => b.Digest == f.Digest && b.QuarantinedAt != null))
            .OrderBy(f => f.Path).FirstOrDefaultAsync(cancellationToken);
        if (quarantined is not null)
        {
            throw Quarantined($"{ns}/{model}:{version.Number}", quarantined.Path, quarantined.Digest);
        }

        return (version.Number, DtoMapper.Utc(version.CreatedAt), files.Select(DtoMapper.ToEntry).ToList());
    }

    /// <summary>The paths of a version's files whose blobs a scrub quarantined (missing or corrupt bytes), in path order.</summary>
    public async Task<List<string>> QuarantinedFilesAsync(long versionId, CancellationToken cancellationToken) =>
        await db.VersionFiles.AsNoTracking()
            .Where(f => f.VersionId == versionId && db.Blobs.Any(b => b.Digest == f.Digest && b.QuarantinedAt != null))
            .OrderBy(f => f.Path).Select(f => f.Path).ToListAsync(cancellationToken);

    private static RegistryException Quarantined(string version, string path, string digest) => Fail.Error(ErrorCodes.BlobCorrupt,
        $"{version}: the stored bytes of '{path}' ({digest}) are missing or corrupt, so the blob is quarantined and nothing is served. " +
        "A server administrator restores it from a backup and runs 'berth fsck' again.",
        new Dictionary<string, object?> { ["digest"] = digest, ["path"] = path });

    /// <summary>Which of these digests the caller would have to upload: those that do not count as present for it (<see cref="BlobPresence"/>).</summary>
    public async Task<IReadOnlyList<string>> FindMissingBlobsAsync(Actor actor, IEnumerable<string> digests, CancellationToken cancellationToken)
    {
        var wanted = digests.Distinct(StringComparer.Ordinal).ToList();
        var present = await presence.PresentAsync(actor, wanted, cancellationToken);
        return wanted.Where(d => !present.Contains(d)).ToList();
    }

    /// <summary>
    /// Records that a push uses these blobs, in the transaction that declares the version. Garbage
    /// collection marks a blob only if it was not used within the grace period, and re-checks that as it
    /// writes the mark, so whichever of the two writes the row first, the other sees it (docs/retention.md).
    /// </summary>
    private async Task TouchBlobsAsync(IReadOnlyList<string> digests, DateTime now, CancellationToken cancellationToken)
    {
        await db.Blobs.Where(b => digests.Contains(b.Digest) && b.DeletingAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(b => b.LastUsedAt, now), cancellationToken);
    }

    /// <summary>A version's lineage may name a run only of its own model (404 <c>run_not_found</c> otherwise: unknown, deleted or elsewhere).</summary>
    internal async Task CheckRunAsync(string ns, string model, string? runId, CancellationToken cancellationToken)
    {
        if (runId is null)
        {
            return;
        }

        var exists = Runs.RunIds.IsWellFormed(runId) && await db.Runs.AnyAsync(r => r.PublicId == runId && r.DeletedAt == null &&
            r.Model.Name == model && r.Model.DeletedAt == null && r.Model.Namespace.Name == ns && r.Model.Namespace.DeletedAt == null, cancellationToken);
        if (!exists)
        {
            throw Runs.RunService.NotFound(ns, model, runId);
        }
    }

    private async Task<List<long>> ResolveParentsAsync(string ns, IReadOnlyList<string>? parents, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        foreach (var text in parents ?? [])
        {
            if (!ModelReference.TryParse(text, out var reference, out var error))
            {
                throw Fail.Error(ErrorCodes.InvalidReference, $"Parent '{Names.Show(text)}': {error}");
            }

            reference = reference.WithDefaultNamespace(ns);
            var parentModel = await lookup.GetModelAsync(reference.Namespace!, reference.Model, cancellationToken);
            var id = await lookup.ResolveIdAsync(parentModel, reference.Selector, allowAnyState: false, cancellationToken);
            if (!ids.Contains(id))
            {
                ids.Add(id);
            }
        }

        return ids;
    }
}
