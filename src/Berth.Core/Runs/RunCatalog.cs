using System.Globalization;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Filtering;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Runs;

/// <summary>
/// Read-only queries of the web UI's run pages beyond <see cref="RunService"/>: the runs table sorted by any sortable
/// column — <c>created</c> and <c>metrics.&lt;key&gt;</c> through RunService's indexed paths, <c>name</c>, <c>user</c> and
/// <c>params.&lt;key&gt;</c> here, keyset-paged the same way (a bounded number of queries per page) —, where a run id lives
/// (a parent run's link) and a capped count of a model's runs (the Runs tab).
/// </summary>
public sealed class RunCatalog(RegistryDbContext db, RunService runs)
{
    /// <summary>
    /// A page of a model's runs matching <paramref name="filter"/>, sorted by <paramref name="sort"/>: <c>created</c>
    /// (the default, newest first), <c>metrics.&lt;key&gt;</c> (the last value), <c>name</c>, <c>user</c> or
    /// <c>params.&lt;key&gt;</c> (numbers in numeric order, then texts), each with a leading <c>-</c> for descending order.
    /// Runs without the sorted value come last, in id order.
    /// </summary>
    public async Task<Page<RunInfo>> ListAsync(string ns, string model, string? filter, string? sort, Paging paging, CancellationToken cancellationToken)
    {
        var order = RunOrder.Parse(sort);
        if (order is null)
        {
            return await runs.ListAsync(ns, model, filter, sort, paging, cancellationToken);
        }

        ModelLookup.ValidateNames(ns, model);
        var query = await runs.MatchingAsync(ns, model, filter, cancellationToken);

        var after = paging.AfterSorted(order.ToString());
        var take = paging.Limit + 1;
        var ids = order.Field switch
        {
            RunOrderField.Name => await ByNameAsync(query, order.Descending, after, take, cancellationToken),
            RunOrderField.User => await ByTextAsync(query.Select(r => new Keyed<string> { RunId = r.Id, Value = r.CreatedBy.Name }), order.Descending, after is { } a ? (a.Value ?? "", a.Id) : null, take, cancellationToken),
            _ => await ByParamAsync(query, order.Key!, order.Descending, after, take, cancellationToken),
        };

        var loaded = await db.Runs.AsNoTracking().AsSplitQuery()
            .Include(r => r.Model).ThenInclude(m => m.Namespace)
            .Include(r => r.CreatedBy)
            .Include(r => r.Params).Include(r => r.Tags).Include(r => r.Datasets).Include(r => r.Metrics)
            .Where(r => ids.Contains(r.Id)).ToDictionaryAsync(r => r.Id, cancellationToken);
        var rows = ids.Where(loaded.ContainsKey).Select(id => loaded[id]).ToList();
        var page = paging.Page(rows, r => [order.ToString(), order.ValueOf(r), r.Id]);
        return new Page<RunInfo>(page.Items.Select(RunService.ToInfo).ToList(), page.NextCursor);
    }

    /// <summary>
    /// The runs of a model with the given public ids, in that order, each with its internal id (what <see cref="RunClock"/>
    /// takes); unknown, malformed and deleted ids are left out. One load for all of them, however many.
    /// </summary>
    public async Task<IReadOnlyList<(long Key, RunInfo Run)>> GetManyAsync(string ns, string model, IReadOnlyList<string> ids, CancellationToken cancellationToken)
    {
        ModelLookup.ValidateNames(ns, model);
        var wanted = ids.Where(RunIds.IsWellFormed).Distinct(StringComparer.Ordinal).ToList();
        if (wanted.Count == 0)
        {
            return [];
        }

        var loaded = await db.Runs.AsNoTracking().AsSplitQuery()
            .Include(r => r.Model).ThenInclude(m => m.Namespace)
            .Include(r => r.CreatedBy)
            .Include(r => r.Params).Include(r => r.Tags).Include(r => r.Datasets).Include(r => r.Metrics)
            .Where(r => wanted.Contains(r.PublicId) && r.DeletedAt == null && r.Model.Name == model && r.Model.DeletedAt == null
                        && r.Model.Namespace.Name == ns && r.Model.Namespace.DeletedAt == null)
            .ToDictionaryAsync(r => r.PublicId, StringComparer.Ordinal, cancellationToken);
        return wanted.Where(loaded.ContainsKey).Select(id => (loaded[id].Id, RunService.ToInfo(loaded[id]))).ToList();
    }

    /// <summary>The namespace and model of a run that is not deleted, by its public id; null when there is none.</summary>
    public async Task<(string Namespace, string Model)?> LocateAsync(string id, CancellationToken cancellationToken)
    {
        if (!RunIds.IsWellFormed(id))
        {
            return null;
        }

        var found = await db.Runs.AsNoTracking()
            .Where(r => r.PublicId == id && r.DeletedAt == null && r.Model.DeletedAt == null && r.Model.Namespace.DeletedAt == null)
            .Select(r => new { Namespace = r.Model.Namespace.Name, Model = r.Model.Name })
            .FirstOrDefaultAsync(cancellationToken);
        return found is null ? null : (found.Namespace, found.Model);
    }

    /// <summary>
    /// How many files run <paramref name="runId"/> holds and their total size, and the names of its top-level folders (at
    /// most <paramref name="maxFolders"/>, in order): what a run page's Files section and its "Register as version" form show.
    /// </summary>
    public async Task<(int Files, long Bytes, IReadOnlyList<string> Folders)> FileSummaryAsync(long runId, int maxFolders, CancellationToken cancellationToken)
    {
        var totals = await db.RunFiles.AsNoTracking().Where(f => f.RunId == runId)
            .GroupBy(f => f.RunId).Select(g => new { Count = g.Count(), Bytes = g.Sum(f => f.Size) })
            .FirstOrDefaultAsync(cancellationToken);
        if (totals is null)
        {
            return (0, 0, []);
        }

        var folders = await db.RunFiles.AsNoTracking().Where(f => f.RunId == runId && f.Path.Contains("/"))
            .Select(f => f.Path.Substring(0, f.Path.IndexOf("/"))).Distinct()
            .OrderBy(f => f).Take(maxFolders).ToListAsync(cancellationToken);
        return (totals.Count, totals.Bytes, folders);
    }

    /// <summary>How many runs a model has, counting no further than <paramref name="cap"/> + 1 (so "more than cap" costs no more).</summary>
    public Task<int> CountAsync(string ns, string model, int cap, CancellationToken cancellationToken) =>
        db.Runs.AsNoTracking()
            .Where(r => r.DeletedAt == null && r.Model.Name == model && r.Model.DeletedAt == null && r.Model.Namespace.Name == ns && r.Model.Namespace.DeletedAt == null)
            .Select(r => r.Id).Take(cap + 1).CountAsync(cancellationToken);

    /// <summary>By name; runs without one follow in id order.</summary>
    private async Task<List<long>> ByNameAsync(IQueryable<Run> query, bool descending, (string? Value, long Id)? after, int take, CancellationToken cancellationToken)
    {
        var ids = new List<long>();
        if (after is not { Value: null })
        {
            var named = query.Where(r => r.Name != null).Select(r => new Keyed<string> { RunId = r.Id, Value = r.Name! });
            ids.AddRange(await ByTextAsync(named, descending, after is { } a ? (a.Value!, a.Id) : null, take, cancellationToken));
        }

        if (ids.Count < take)
        {
            ids.AddRange(await MissingAsync(query.Where(r => r.Name == null), descending, after is { Value: null } m ? m.Id : null, take - ids.Count, cancellationToken));
        }

        return ids;
    }

    /// <summary>
    /// By a param: those whose value is a number in numeric order, then those whose value is text in text order, then
    /// the runs without it in id order. The cursor's value says which of the three the last row was in ("n…", "s…", none).
    /// </summary>
    private async Task<List<long>> ByParamAsync(IQueryable<Run> query, string key, bool descending, (string? Value, long Id)? after, int take, CancellationToken cancellationToken)
    {
        var phase = after switch
        {
            null => 0,
            { Value: null } => 2,
            { Value: var v } when v.StartsWith('n') => 0,
            { Value: var v } when v.StartsWith('s') => 1,
            _ => throw new RegistryException(ErrorCodes.InvalidCursor, "The cursor is not one this server handed out; start again without a cursor."),
        };
        var ids = new List<long>();
        var withKey = db.RunParams.Where(p => p.Name == key).Join(query, p => p.RunId, r => r.Id, (p, r) => p);
        if (phase == 0)
        {
            var numbers = withKey.Where(p => p.Number != null).Select(p => new Keyed<double> { RunId = p.RunId, Value = p.Number!.Value });
            (double, long)? from = after is { } a ? (Paging.ParseDouble(a.Value![1..]), a.Id) : null;
            ids.AddRange(await ByNumberAsync(numbers, descending, from, take, cancellationToken));
        }

        if (phase <= 1 && ids.Count < take)
        {
            var texts = withKey.Where(p => p.Number == null).Select(p => new Keyed<string> { RunId = p.RunId, Value = p.Value });
            (string, long)? from = phase == 1 && after is { } a ? (a.Value![1..], a.Id) : null;
            ids.AddRange(await ByTextAsync(texts, descending, from, take - ids.Count, cancellationToken));
        }

        if (ids.Count < take)
        {
            long? from = phase == 2 ? after!.Value.Id : null;
            ids.AddRange(await MissingAsync(query.Where(r => !r.Params.Any(p => p.Name == key)), descending, from, take - ids.Count, cancellationToken));
        }

        return ids;
    }

    private static Task<List<long>> ByNumberAsync(IQueryable<Keyed<double>> keyed, bool descending, (double Value, long Id)? after, int take, CancellationToken cancellationToken)
    {
        if (after is var (value, id))
        {
            keyed = descending
                ? keyed.Where(x => x.Value < value || (x.Value == value && x.RunId < id))
                : keyed.Where(x => x.Value > value || (x.Value == value && x.RunId > id));
        }

        var ordered = descending ? keyed.OrderByDescending(x => x.Value).ThenByDescending(x => x.RunId) : keyed.OrderBy(x => x.Value).ThenBy(x => x.RunId);
        return ordered.Select(x => x.RunId).Take(take).ToListAsync(cancellationToken);
    }

    private static Task<List<long>> ByTextAsync(IQueryable<Keyed<string>> keyed, bool descending, (string Value, long Id)? after, int take, CancellationToken cancellationToken)
    {
        if (after is var (value, id))
        {
            keyed = descending
                ? keyed.Where(x => string.Compare(x.Value, value) < 0 || (x.Value == value && x.RunId < id))
                : keyed.Where(x => string.Compare(x.Value, value) > 0 || (x.Value == value && x.RunId > id));
        }

        var ordered = descending ? keyed.OrderByDescending(x => x.Value).ThenByDescending(x => x.RunId) : keyed.OrderBy(x => x.Value).ThenBy(x => x.RunId);
        return ordered.Select(x => x.RunId).Take(take).ToListAsync(cancellationToken);
    }

    private static Task<List<long>> MissingAsync(IQueryable<Run> missing, bool descending, long? afterId, int take, CancellationToken cancellationToken)
    {
        if (afterId is { } id)
        {
            missing = descending ? missing.Where(r => r.Id < id) : missing.Where(r => r.Id > id);
        }

        return (descending ? missing.OrderByDescending(r => r.Id) : missing.OrderBy(r => r.Id)).Select(r => r.Id).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>A run id with the value it is sorted by (a projection the database can order and compare).</summary>
    private sealed class Keyed<T>
    {
        public long RunId { get; init; }
        public T Value { get; init; } = default!;
    }

    private enum RunOrderField
    {
        Name,
        User,
        Param,
    }

    /// <summary>The sorts this class answers itself; null from <see cref="Parse"/> means RunService's (created, metrics).</summary>
    private sealed record RunOrder(RunOrderField Field, bool Descending, string? Key)
    {
        public static RunOrder? Parse(string? text)
        {
            var trimmed = text?.Trim() ?? "";
            var descending = trimmed.StartsWith('-');
            var body = descending ? trimmed[1..] : trimmed;
            if (body == "name" || body == "user")
            {
                return new RunOrder(body == "name" ? RunOrderField.Name : RunOrderField.User, descending, null);
            }

            if (body.StartsWith("params.", StringComparison.Ordinal))
            {
                var key = body["params.".Length..];
                RunService.Key("param", key);
                return new RunOrder(RunOrderField.Param, descending, key);
            }

            if (body.Length == 0 || body == "created" || body.StartsWith("metrics.", StringComparison.Ordinal))
            {
                return null;
            }

            throw new RegistryException(ErrorCodes.InvalidFilter,
                $"Runs sort by created, name, user, metrics.<key> or params.<key> (with a leading '-' for descending order), not by '{(trimmed.Length > 40 ? trimmed[..40] + "…" : trimmed)}'.",
                new Dictionary<string, object?> { ["sort"] = text });
        }

        public object? ValueOf(Run run) => Field switch
        {
            RunOrderField.Name => run.Name,
            RunOrderField.User => run.CreatedBy.Name,
            _ => run.Params.FirstOrDefault(p => p.Name == Key) is { } p
                ? p.Number is { } n ? "n" + n.ToString("R", CultureInfo.InvariantCulture) : "s" + p.Value
                : null,
        };

        public override string ToString() => (Descending ? "-" : "") + Field switch
        {
            RunOrderField.Name => "name",
            RunOrderField.User => "user",
            _ => "params." + Key,
        };
    }
}
