using System.Globalization;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Events;
using Berth.Core.Filtering;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Runs;

/// <summary>
/// Training runs: starting them (the model is created on first use, as by a push), reading, listing with the filter
/// language, editing name, note and tags, heartbeats, ending and soft deletion. Metric series are <see cref="MetricStore"/>'s.
/// </summary>
public sealed class RunService(RegistryDbContext db, ModelService models, AuditTrail audit, EventLog events, TimeProvider clock)
{
    public async Task<RunInfo> CreateAsync(Actor actor, string ns, string model, CreateRunRequest request, CancellationToken cancellationToken)
    {
        ModelLookup.ValidateNames(ns, model);
        Validate(request);
        var id = await db.InTransactionWithRetryAsync(async ct =>
        {
            var entity = await models.EnsureModelAsync(actor, ns, model, ct);
            var now = clock.GetUtcNow().UtcDateTime;
            var run = new Run
            {
                PublicId = RunIds.New(),
                ModelId = entity.Id,
                Name = string.IsNullOrEmpty(request.Name) ? null : request.Name,
                Status = RunStatus.Running,
                CreatedById = actor.UserId,
                StartedAt = now,
                HeartbeatAt = now,
                Note = string.IsNullOrEmpty(request.Note) ? null : request.Note,
                GitRepository = request.Lineage?.GitRepository,
                GitCommit = request.Lineage?.GitCommit?.ToLowerInvariant(),
                GitDirty = request.Lineage?.GitDirty,
                ParentRunId = request.Lineage?.ParentRun,
                Environment = request.Environment is { Count: > 0 } env ? AuditDetails.ToJson(env.ToDictionary(e => e.Key, e => (object?)e.Value)) : null,
                Revision = 1,
                Params = (request.Params ?? new Dictionary<string, string>()).Select(p => new RunParam { Name = p.Key, Value = p.Value, Number = AsNumber(p.Value) }).ToList(),
                Tags = (request.Tags ?? new Dictionary<string, string>()).Select(t => new RunTag { Key = t.Key, Value = t.Value }).ToList(),
                Datasets = (request.Lineage?.Datasets ?? []).Select((d, i) => new RunDataset { Ordinal = i, Uri = d.Uri, Digest = d.Digest }).ToList(),
            };
            db.Runs.Add(run);
            audit.Record("run.create", ns, $"{ns}/{model}/runs/{run.PublicId}", new Dictionary<string, object?> { ["name"] = run.Name });
            events.Publish(EventTypes.RunStarted, EventSubject.Of(entity), data: new Dictionary<string, object?> { ["run"] = run.PublicId, ["name"] = run.Name });
            await db.SaveChangesAsync(ct);
            return run.Id;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        return await GetByIdAsync(id, cancellationToken);
    }

    public async Task<RunInfo> GetAsync(string ns, string model, string id, CancellationToken cancellationToken) =>
        await GetByIdAsync((await FindAsync(ns, model, id, cancellationToken)).Id, cancellationToken);

    /// <summary>The run's internal id and status; <c>run_not_found</c> for a malformed, unknown or deleted id.</summary>
    public async Task<(long Id, RunStatus Status)> FindAsync(string ns, string model, string id, CancellationToken cancellationToken)
    {
        if (!RunIds.IsWellFormed(id))
        {
            throw NotFound(ns, model, id);
        }

        var found = await db.Runs.AsNoTracking()
            .Where(r => r.PublicId == id && r.DeletedAt == null && r.Model.Name == model && r.Model.DeletedAt == null && r.Model.Namespace.Name == ns && r.Model.Namespace.DeletedAt == null)
            .Select(r => new { r.Id, r.Status })
            .FirstOrDefaultAsync(cancellationToken);
        return found is null ? throw NotFound(ns, model, id) : (found.Id, found.Status);
    }

    internal static RegistryException NotFound(string ns, string model, string id) =>
        new(ErrorCodes.RunNotFound, $"'{ns}/{model}' has no run '{(id.Length > 40 ? id[..40] + "…" : id)}'.");

    public async Task<RunInfo> GetByIdAsync(long id, CancellationToken cancellationToken)
    {
        var run = await db.Runs.AsNoTracking().AsSplitQuery()
            .Include(r => r.Model).ThenInclude(m => m.Namespace)
            .Include(r => r.CreatedBy)
            .Include(r => r.Params).Include(r => r.Tags).Include(r => r.Datasets).Include(r => r.Metrics)
            .OrderBy(r => r.Id).SingleAsync(r => r.Id == id, cancellationToken);
        var produced = await db.Versions.AsNoTracking()
            .Where(v => v.ModelId == run.ModelId && v.RunId == run.PublicId && v.State == VersionState.Ready)
            .OrderBy(v => v.Number).Select(v => new RunVersionRef(v.Number, v.SemVer)).ToListAsync(cancellationToken);
        return ToInfo(run) with { Versions = produced };
    }

    /// <summary>
    /// A page of a model's runs matching <paramref name="filter"/> (the filter language over name, status, created,
    /// metrics, params and tags), sorted by <c>created</c> (default newest first) or a metric's last value, keyset-paged.
    /// </summary>
    public async Task<Page<RunInfo>> ListAsync(string ns, string model, string? filter, string? sort, Paging paging, CancellationToken cancellationToken)
    {
        ModelLookup.ValidateNames(ns, model);
        var order = SearchSort.Parse(sort);
        if (order.Field is not (SortField.Created or SortField.Metric))
        {
            Fail.With(ErrorCodes.InvalidFilter, $"Runs sort by created or metrics.<key> (with a leading '-' for descending order), not by '{order}'.");
        }

        var query = await MatchingAsync(ns, model, filter, cancellationToken);
        var after = paging.AfterSorted(order.ToString());
        var take = paging.Limit + 1;
        List<long> ids;
        if (order.Field == SortField.Created)
        {
            if (after is { } a)
            {
                var at = new DateTime(Paging.ParseLong(a.Value ?? ""), DateTimeKind.Utc);
                var lastId = a.Id;
                query = order.Descending
                    ? query.Where(r => r.StartedAt < at || (r.StartedAt == at && r.Id < lastId))
                    : query.Where(r => r.StartedAt > at || (r.StartedAt == at && r.Id > lastId));
            }

            query = order.Descending ? query.OrderByDescending(r => r.StartedAt).ThenByDescending(r => r.Id) : query.OrderBy(r => r.StartedAt).ThenBy(r => r.Id);
            ids = await query.Select(r => r.Id).Take(take).ToListAsync(cancellationToken);
        }
        else
        {
            ids = await ByMetricAsync(query, order.MetricKey!, order.Descending, after, take, cancellationToken);
        }

        var loaded = await db.Runs.AsNoTracking().AsSplitQuery()
            .Include(r => r.Model).ThenInclude(m => m.Namespace)
            .Include(r => r.CreatedBy)
            .Include(r => r.Params).Include(r => r.Tags).Include(r => r.Datasets).Include(r => r.Metrics)
            .Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        var rows = ids.Where(loaded.ContainsKey).Select(id => loaded[id]).ToList();
        var page = paging.Page(rows, r => [order.ToString(), SortValue(r, order), r.Id]);
        return new Page<RunInfo>(page.Items.Select(ToInfo).ToList(), page.NextCursor);
    }

    /// <summary>The live runs of a model (404 <c>model_not_found</c> when it does not exist) that match <paramref name="filter"/>.</summary>
    internal async Task<IQueryable<Run>> MatchingAsync(string ns, string model, string? filter, CancellationToken cancellationToken)
    {
        var modelId = await db.Models.AsNoTracking()
            .Where(m => m.Name == model && m.DeletedAt == null && m.Namespace.Name == ns && m.Namespace.DeletedAt == null)
            .Select(m => (long?)m.Id).FirstOrDefaultAsync(cancellationToken)
            ?? throw new RegistryException(ErrorCodes.ModelNotFound, $"Model '{ns}/{model}' does not exist.");
        var query = db.Runs.AsNoTracking().Where(r => r.ModelId == modelId && r.DeletedAt == null);
        return string.IsNullOrWhiteSpace(filter) ? query : query.Where(FilterTranslator.ToRunPredicate(FilterParser.Parse(filter, FilterScope.Runs)));
    }

    // Boxed on each side: a conditional of long and double? would be a double? and turn the ticks into a rounded double
    // ("6.39E+17"), which the cursor's ParseLong refuses.
    private static object? SortValue(Run r, SearchSort order) => order.Field == SortField.Created
        ? (object)r.StartedAt.Ticks
        : r.Metrics.FirstOrDefault(m => m.Key == order.MetricKey)?.Last;

    /// <summary>By a metric's last value (the (key, last, run) index); runs without it, or whose last value is NaN, follow in id order.</summary>
    private async Task<List<long>> ByMetricAsync(IQueryable<Run> query, string key, bool descending, (string? Value, long Id)? after, int take, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        if (after is not { Value: null })
        {
            var keyed = db.RunMetrics.Where(m => m.Key == key && m.Last != null)
                .Join(query, m => m.RunId, r => r.Id, (m, r) => new { m.RunId, Value = m.Last!.Value });
            if (after is { Value: { } text } present)
            {
                var value = Paging.ParseDouble(text);
                var id = present.Id;
                keyed = descending
                    ? keyed.Where(x => x.Value <= value && (x.Value < value || x.RunId < id))
                    : keyed.Where(x => x.Value >= value && (x.Value > value || x.RunId > id));
            }

            var ordered = descending ? keyed.OrderByDescending(x => x.Value).ThenByDescending(x => x.RunId) : keyed.OrderBy(x => x.Value).ThenBy(x => x.RunId);
            ids.AddRange(await ordered.Select(x => x.RunId).Take(take).ToListAsync(cancellationToken));
        }

        if (ids.Count < take)
        {
            var missing = query.Where(r => !r.Metrics.Any(m => m.Key == key && m.Last != null));
            if (after is { Value: null } last)
            {
                var id = last.Id;
                missing = descending ? missing.Where(r => r.Id < id) : missing.Where(r => r.Id > id);
            }

            missing = descending ? missing.OrderByDescending(r => r.Id) : missing.OrderBy(r => r.Id);
            ids.AddRange(await missing.Select(r => r.Id).Take(take - ids.Count).ToListAsync(cancellationToken));
        }

        return ids;
    }

    public async Task<RunInfo> UpdateAsync(string ns, string model, string id, UpdateRunRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        var (runId, _) = await FindAsync(ns, model, id, cancellationToken);
        CheckText("name", request.Name, 256);
        CheckText("note", request.Note, Names.DescriptionMaxLength);
        CheckTags(request.SetTags);
        foreach (var key in request.RemoveTags ?? [])
        {
            Key("tag", key);
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            var run = await db.Runs.Include(r => r.Tags).SingleAsync(r => r.Id == runId, ct);
            if (expectedRevision is { } expected && expected != run.Revision)
            {
                Fail.With(ErrorCodes.PreconditionFailed, $"Run '{id}' changed since you read it (revision {run.Revision}); read it again.");
            }

            if (request.Name is not null)
            {
                run.Name = request.Name.Length == 0 ? null : request.Name;
            }

            if (request.Note is not null)
            {
                run.Note = request.Note.Length == 0 ? null : request.Note;
            }

            foreach (var key in request.RemoveTags ?? [])
            {
                run.Tags.RemoveAll(t => t.Key == key);
            }

            foreach (var (key, value) in request.SetTags ?? new Dictionary<string, string>())
            {
                if (run.Tags.FirstOrDefault(t => t.Key == key) is { } tag)
                {
                    tag.Value = value;
                }
                else
                {
                    run.Tags.Add(new RunTag { RunId = run.Id, Key = key, Value = value });
                }
            }

            run.Revision++;
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        return await GetByIdAsync(runId, cancellationToken);
    }

    /// <summary>Records a sign of life of a running run (409 <c>run_ended</c> once it ended).</summary>
    public async Task HeartbeatAsync(string ns, string model, string id, CancellationToken cancellationToken)
    {
        var (runId, _) = await FindAsync(ns, model, id, cancellationToken);
        var now = clock.GetUtcNow().UtcDateTime;
        var changed = await db.Runs.Where(r => r.Id == runId && r.Status == RunStatus.Running)
            .ExecuteUpdateAsync(s => s.SetProperty(r => r.HeartbeatAt, now), cancellationToken);
        if (changed == 0)
        {
            throw Ended(id);
        }
    }

    /// <summary>Ends a running run as finished, failed or killed; ending it again the same way answers the run unchanged.</summary>
    public async Task<RunInfo> FinishAsync(string ns, string model, string id, FinishRunRequest request, CancellationToken cancellationToken)
    {
        var status = request.Status switch
        {
            null or RunStatuses.Finished => RunStatus.Finished,
            RunStatuses.Failed => RunStatus.Failed,
            RunStatuses.Killed => RunStatus.Killed,
            _ => throw new RegistryException(ErrorCodes.InvalidRequest, $"A run ends as '{RunStatuses.Finished}', '{RunStatuses.Failed}' or '{RunStatuses.Killed}', not '{request.Status}'."),
        };
        var (runId, _) = await FindAsync(ns, model, id, cancellationToken);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var run = await db.LockedRow<Run>(runId).Include(r => r.Model).ThenInclude(m => m.Namespace).SingleAsync(ct);
            if (run.Status == status)
            {
                return false;
            }

            if (run.Status != RunStatus.Running)
            {
                throw Ended(id, run.Status);
            }

            End(run, status, clock.GetUtcNow().UtcDateTime);
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        return await GetByIdAsync(runId, cancellationToken);
    }

    /// <summary>Ends <paramref name="run"/> (tracked, with its model and namespace) and publishes <c>run.finished</c>.</summary>
    internal void End(Run run, RunStatus status, DateTime at)
    {
        run.Status = status;
        run.EndedAt = at;
        run.Revision++;
        events.Publish(EventTypes.RunFinished, EventSubject.Of(run.Model), data: new Dictionary<string, object?>
        {
            ["run"] = run.PublicId,
            ["status"] = StatusName(status),
        });
    }

    /// <summary>
    /// Soft-deletes a run: gone from reads and lists; its files (blob references) and series stay until garbage collection
    /// purges them after <c>Registry:PurgeDelay</c>.
    /// </summary>
    public async Task DeleteAsync(string ns, string model, string id, CancellationToken cancellationToken)
    {
        var (runId, _) = await FindAsync(ns, model, id, cancellationToken);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var run = await db.LockedRow<Run>(runId).SingleAsync(ct);
            if (run.DeletedAt is not null)
            {
                throw NotFound(ns, model, id);
            }

            run.DeletedAt = clock.GetUtcNow().UtcDateTime;
            run.Revision++;
            audit.Record("run.delete", ns, $"{ns}/{model}/runs/{id}");
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        db.ChangeTracker.Clear();
    }

    internal static RegistryException Ended(string id, RunStatus? status = null) =>
        new(ErrorCodes.RunEnded, $"Run '{id}' has ended{(status is { } s ? $" ({StatusName(s)})" : "")}: it takes no more metrics, heartbeats or end.");

    public static string StatusName(RunStatus status) => status.ToString().ToLowerInvariant();

    internal static RunInfo ToInfo(Run r) => new(
        r.PublicId,
        r.Model.Namespace.Name,
        r.Model.Name,
        r.Name,
        StatusName(r.Status),
        new DateTimeOffset(r.StartedAt, TimeSpan.Zero),
        r.EndedAt is { } e ? new DateTimeOffset(e, TimeSpan.Zero) : null,
        new DateTimeOffset(r.HeartbeatAt, TimeSpan.Zero),
        r.CreatedBy.Name,
        r.Params.OrderBy(p => p.Name, StringComparer.Ordinal).ToDictionary(p => p.Name, p => p.Value),
        r.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).ToDictionary(t => t.Key, t => t.Value),
        r.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal).ToDictionary(m => m.Key, m => new MetricSummary(m.Count, m.LastStep, m.Last ?? double.NaN, m.Min, m.Max)),
        r.Note,
        new RunLineage(r.GitRepository, r.GitCommit, r.GitDirty,
            r.Datasets.Count == 0 ? null : r.Datasets.OrderBy(d => d.Ordinal).Select(d => new DatasetRef(d.Uri, d.Digest)).ToList(),
            r.ParentRunId),
        r.Environment is null ? null : EnvironmentOf(r.Environment),
        r.Revision);

    private static Dictionary<string, string> EnvironmentOf(string json)
    {
        using var document = System.Text.Json.JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "", StringComparer.Ordinal);
    }

    internal static double? AsNumber(string value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number) ? number : null;

    private static void Validate(CreateRunRequest request)
    {
        CheckText("name", request.Name, 256);
        CheckText("note", request.Note, Names.DescriptionMaxLength);
        foreach (var (key, value) in request.Params ?? new Dictionary<string, string>())
        {
            Key("param", key);
            if (value.Length > Names.ParamValueMaxLength)
            {
                Fail.With(ErrorCodes.InvalidMetadata, $"Param '{key}' is longer than {Names.ParamValueMaxLength} characters.");
            }
        }

        CheckTags(request.Tags);
        foreach (var (key, value) in request.Environment ?? new Dictionary<string, string>())
        {
            Key("environment", key);
            CheckText($"environment '{key}'", value, Names.ParamValueMaxLength);
        }

        if (request.Lineage is { } lineage)
        {
            CheckText("gitRepository", lineage.GitRepository, 2048);
            if (lineage.GitCommit is { } commit && (commit.Length is < 4 or > 64 || !commit.All(char.IsAsciiHexDigit)))
            {
                Fail.With(ErrorCodes.InvalidMetadata, "gitCommit must be 4-64 hexadecimal characters.");
            }

            if (lineage.ParentRun is { } parent && !RunIds.IsWellFormed(parent))
            {
                Fail.With(ErrorCodes.InvalidMetadata, $"parentRun must be a run id ({RunIds.Length} characters of a-z and 2-7).");
            }

            foreach (var dataset in lineage.Datasets ?? [])
            {
                CheckText("dataset uri", dataset.Uri, 2048);
                CheckText("dataset digest", dataset.Digest, 256);
                if (string.IsNullOrEmpty(dataset.Uri))
                {
                    Fail.With(ErrorCodes.InvalidMetadata, "A dataset needs a uri.");
                }
            }
        }
    }

    private static void CheckTags(IReadOnlyDictionary<string, string>? tags)
    {
        foreach (var (key, value) in tags ?? new Dictionary<string, string>())
        {
            Key("tag", key);
            if (Names.CheckTagValue(key, value) is { } problem)
            {
                Fail.With(ErrorCodes.InvalidMetadata, problem);
            }
        }
    }

    internal static void Key(string kind, string key)
    {
        if (Names.CheckKey(kind, key) is { } problem)
        {
            Fail.With(ErrorCodes.InvalidName, problem);
        }
    }

    private static void CheckText(string what, string? value, int max)
    {
        if (value is not null && (value.Length > max || value.Any(c => char.IsControl(c) && c is not ('\n' or '\r' or '\t'))))
        {
            Fail.With(ErrorCodes.InvalidMetadata, $"The {what} must be at most {max} characters, without control characters.");
        }
    }
}
