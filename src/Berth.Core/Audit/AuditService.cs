using System.Diagnostics;
using System.Runtime.CompilerServices;
using Berth.Contracts.Dtos;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Audit;

/// <summary>Reading, exporting and verifying the audit log.</summary>
public sealed class AuditService(RegistryDbContext db)
{
    private const int Batch = 10_000;

    public Task<Page<AuditEntryInfo>> ListAsync(DateTimeOffset? since, DateTimeOffset? until, string? ns, Paging paging, CancellationToken cancellationToken) =>
        ListAsync(new AuditFilter(Namespace: ns, Since: since, Until: until), paging, newestFirst: false, cancellationToken);

    /// <summary>A page of the entries <paramref name="filter"/> selects, oldest or newest first (keyset-paginated by position).</summary>
    public async Task<Page<AuditEntryInfo>> ListAsync(AuditFilter filter, Paging paging, bool newestFirst, CancellationToken cancellationToken)
    {
        var query = Filter(filter);
        if (newestFirst)
        {
            var before = paging.Parts is null ? long.MaxValue : paging.AfterId();
            query = query.Where(a => a.Id < before).OrderByDescending(a => a.Id);
        }
        else
        {
            var after = paging.AfterId();
            query = query.Where(a => a.Id > after).OrderBy(a => a.Id);
        }

        var rows = await query.Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, a => a.Id);
        return new Page<AuditEntryInfo>(page.Items.Select(ToInfo).ToList(), page.NextCursor);
    }

    /// <summary>Every entry in the range, oldest first, streamed in batches.</summary>
    public IAsyncEnumerable<AuditEntryInfo> ExportAsync(DateTimeOffset? since, DateTimeOffset? until, string? ns, CancellationToken cancellationToken) =>
        ExportAsync(new AuditFilter(Namespace: ns, Since: since, Until: until), cancellationToken);

    /// <summary>Every entry <paramref name="filter"/> selects, oldest first, streamed in batches.</summary>
    public async IAsyncEnumerable<AuditEntryInfo> ExportAsync(AuditFilter filter, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = 0L;
        while (true)
        {
            var rows = await Filter(filter).Where(a => a.Id > after).OrderBy(a => a.Id).Take(Batch).ToListAsync(cancellationToken);
            foreach (var row in rows)
            {
                yield return ToInfo(row);
            }

            if (rows.Count < Batch)
            {
                yield break;
            }

            after = rows[^1].Id;
        }
    }

    /// <summary>
    /// Recomputes the whole chain: every entry's hash, every link to the previous entry, positions without
    /// gaps, and the head. Names the first entry where the chain breaks. Reading the next batch overlaps
    /// with hashing the current one, and hashing runs on every core (each entry's hash depends only on
    /// its own fields and its stored link; the links are checked in order afterwards).
    /// </summary>
    public async Task<AuditVerification> VerifyAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var previousId = 0L;
        var previousHash = AuditHash.Genesis;
        var count = 0L;
        Task<List<AuditEntry>>? next = Task.Run(() => BatchAsync(0, cancellationToken), cancellationToken);
        try
        {
            while (next is not null)
            {
                var rows = await next;
                next = rows.Count == Batch ? Task.Run(() => BatchAsync(rows[^1].Id, cancellationToken), cancellationToken) : null;
                var intact = new bool[rows.Count];
                Parallel.For(0, rows.Count, new ParallelOptions { CancellationToken = cancellationToken }, i => intact[i] = AuditHash.Compute(rows[i]) == rows[i].Hash);
                for (var i = 0; i < rows.Count; i++)
                {
                    var row = rows[i];
                    count++;
                    var problem =
                        row.Id != previousId + 1 ? $"entry {previousId + 1} is missing (the next entry is {row.Id})" :
                        row.PreviousHash != previousHash ? $"entry {row.Id} does not link to entry {previousId}: its previous hash differs" :
                        !intact[i] ? $"entry {row.Id} was changed: its content does not match its hash" :
                        null;
                    if (problem is not null)
                    {
                        return new AuditVerification(false, count, row.Id != previousId + 1 ? previousId + 1 : row.Id, problem, clock.Elapsed.TotalSeconds);
                    }

                    previousId = row.Id;
                    previousHash = row.Hash;
                }
            }
        }
        finally
        {
            if (next is not null)
            {
                // Stopped early: the context must be idle before it goes back to the pool.
                await ((Task)next).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }

        var head = await db.AuditHeads.AsNoTracking().SingleOrDefaultAsync(h => h.Id == AuditChainInterceptor.HeadId, cancellationToken);
        if (head is not null && (head.LastId != previousId || head.LastHash != previousHash))
        {
            var problem = head.LastId > previousId
                ? $"entries {previousId + 1} to {head.LastId} are missing from the end of the log"
                : $"the chain's head (entry {head.LastId}) does not match its last entry ({previousId})";
            return new AuditVerification(false, count, Math.Min(previousId + 1, head.LastId), problem, clock.Elapsed.TotalSeconds);
        }

        if (head is null && count > 0)
        {
            return new AuditVerification(false, count, 1, "the chain's head row is missing", clock.Elapsed.TotalSeconds);
        }

        return new AuditVerification(true, count, null, null, clock.Elapsed.TotalSeconds);
    }

    private Task<List<AuditEntry>> BatchAsync(long after, CancellationToken cancellationToken) =>
        db.AuditLog.AsNoTracking().Where(a => a.Id > after).OrderBy(a => a.Id).Take(Batch).ToListAsync(cancellationToken);

    /// <summary>The position and hash of the chain's last entry (null: the log is empty); one row, read without verifying anything.</summary>
    public async Task<(long LastId, string LastHash)?> HeadAsync(CancellationToken cancellationToken) =>
        await db.AuditHeads.AsNoTracking().Where(h => h.Id == AuditChainInterceptor.HeadId)
            .Select(h => new { h.LastId, h.LastHash }).SingleOrDefaultAsync(cancellationToken) is { } head
            ? (head.LastId, head.LastHash)
            : null;

    /// <summary>
    /// Of the namespaces and models (<c>ns/model</c>) that entries name, those that still exist (not deleted), in two
    /// queries whatever the number asked about.
    /// </summary>
    public async Task<(IReadOnlySet<string> Namespaces, IReadOnlySet<string> Models)> ExistingAsync(
        IReadOnlyCollection<string> namespaces, IReadOnlyCollection<(string Namespace, string Model)> models, CancellationToken cancellationToken)
    {
        var names = namespaces.Concat(models.Select(m => m.Namespace)).Distinct(StringComparer.Ordinal).ToList();
        var liveNamespaces = names.Count == 0
            ? []
            : await db.Namespaces.AsNoTracking().Where(n => names.Contains(n.Name) && n.DeletedAt == null).Select(n => n.Name).ToListAsync(cancellationToken);
        var modelNames = models.Select(m => m.Model).Distinct(StringComparer.Ordinal).ToList();
        var wanted = models.Where(m => liveNamespaces.Contains(m.Namespace)).Select(m => m.Namespace).Distinct(StringComparer.Ordinal).ToList();
        var liveModels = wanted.Count == 0
            ? []
            : await db.Models.AsNoTracking()
                .Where(m => wanted.Contains(m.Namespace.Name) && modelNames.Contains(m.Name) && m.DeletedAt == null)
                .Select(m => m.Namespace.Name + "/" + m.Name).ToListAsync(cancellationToken);
        return (liveNamespaces.ToHashSet(StringComparer.Ordinal), liveModels.ToHashSet(StringComparer.Ordinal));
    }

    private IQueryable<AuditEntry> Filter(AuditFilter filter)
    {
        var query = db.AuditLog.AsNoTracking();
        if (!string.IsNullOrEmpty(filter.Actor))
        {
            query = query.Where(a => a.Actor == filter.Actor);
        }

        if (!string.IsNullOrEmpty(filter.Action))
        {
            if (filter.Action.Contains('.', StringComparison.Ordinal))
            {
                query = query.Where(a => a.Action == filter.Action);
            }
            else
            {
                var family = filter.Action + ".";
                query = query.Where(a => a.Action.StartsWith(family));
            }
        }

        var (since, until, ns) = (filter.Since, filter.Until, filter.Namespace);
        if (since is { } s)
        {
            var from = s.UtcDateTime;
            query = query.Where(a => a.At >= from);
        }

        if (until is { } u)
        {
            var to = u.UtcDateTime;
            query = query.Where(a => a.At < to);
        }

        if (ns is not null)
        {
            query = query.Where(a => a.Namespace == ns);
        }

        return query;
    }

    public static AuditEntryInfo ToInfo(AuditEntry a) => new(
        a.Id, DtoMapper.Utc(a.At), a.Actor, a.Action, a.Namespace, a.Target, a.Details, a.ClientAddress, a.RequestId, a.PreviousHash, a.Hash);
}
