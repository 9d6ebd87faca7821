using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
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
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Berth.Core.Registry;

public sealed class NamespaceService(RegistryDbContext db, AccessControl access, StagePolicies policies, LifecycleService lifecycle, AuditTrail audit, EventLog events, IOptions<RegistryOptions> options, TimeProvider clock)
{
    /// <summary>Namespaces the actor can read, by name.</summary>
    public async Task<Page<NamespaceInfo>> ListAsync(Actor actor, Paging paging, CancellationToken cancellationToken)
    {
        var after = paging.AfterString() ?? "";
        var query = db.Namespaces.AsNoTracking().Where(n => n.DeletedAt == null && string.Compare(n.Name, after) > 0);
        if (await access.ReadableNamespaceIdsAsync(actor, cancellationToken) is { } readable)
        {
            query = query.Where(n => readable.Contains(n.Id));
        }

        var rows = await query.OrderBy(n => n.Name).Take(paging.Limit + 1)
            .Select(n => new { Namespace = n, Models = n.Models.Count(m => m.DeletedAt == null) })
            .ToListAsync(cancellationToken);
        var page = paging.Page(rows, r => r.Namespace.Name);
        var infos = new List<NamespaceInfo>();
        foreach (var row in page.Items)
        {
            infos.Add(await ToInfoAsync(row.Namespace, row.Models, cancellationToken));
        }

        return new Page<NamespaceInfo>(infos, page.NextCursor);
    }

    /// <summary>
    /// The first <paramref name="limit"/> names of the namespaces the actor can read, in order: for pickers, without
    /// the per-namespace model counts and stage rules <see cref="ListAsync"/> reads for each one.
    /// </summary>
    public async Task<IReadOnlyList<string>> NamesAsync(Actor actor, int limit, CancellationToken cancellationToken)
    {
        var query = db.Namespaces.AsNoTracking().Where(n => n.DeletedAt == null);
        if (await access.ReadableNamespaceIdsAsync(actor, cancellationToken) is { } readable)
        {
            query = query.Where(n => readable.Contains(n.Id));
        }

        return await query.OrderBy(n => n.Name).Take(limit).Select(n => n.Name).ToListAsync(cancellationToken);
    }

    public async Task<NamespaceInfo> GetAsync(string name, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNamespace(name), ErrorCodes.InvalidName);
        var row = await db.Namespaces.AsNoTracking()
            .Where(n => n.Name == name && n.DeletedAt == null)
            .Select(n => new { Namespace = n, Models = n.Models.Count(m => m.DeletedAt == null) })
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw Fail.Error(ErrorCodes.NamespaceNotFound, $"Namespace '{name}' does not exist.");
        return await ToInfoAsync(row.Namespace, row.Models, cancellationToken);
    }

    /// <summary>
    /// Soft delete: the namespace and its models leave listings, pulls and pushes at once (the name stays
    /// taken); garbage collection purges their versions after the purge delay. Open transition requests are cancelled.
    /// </summary>
    public async Task DeleteAsync(Actor actor, string name, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNamespace(name), ErrorCodes.InvalidName);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var space = await db.Namespaces.FirstOrDefaultAsync(n => n.Name == name && n.DeletedAt == null, ct)
                ?? throw Fail.Error(ErrorCodes.NamespaceNotFound, $"Namespace '{name}' does not exist.");
            var data = new Dictionary<string, object?> { ["models"] = await db.Models.CountAsync(m => m.NamespaceId == space.Id && m.DeletedAt == null, ct) };
            var withRequests = await db.Models.Include(m => m.Namespace)
                .Where(m => m.NamespaceId == space.Id && m.DeletedAt == null && db.Requests.Any(r => r.ModelId == m.Id && r.State == RequestState.Open))
                .ToListAsync(ct);
            foreach (var model in withRequests)
            {
                await lifecycle.CancelOpenRequestsAsync(actor, model, null, "the namespace was deleted", ct);
            }

            space.DeletedAt = clock.GetUtcNow().UtcDateTime;
            audit.Record("namespace.delete", name, $"namespace {name}", data);
            events.Publish(EventTypes.NamespaceDeleted, EventSubject.Of(space), data: data);
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
    }

    public async Task<NamespaceInfo> CreateAsync(Actor actor, CreateNamespaceRequest request, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNewNamespace(request.Name), ErrorCodes.InvalidName);
        CheckDescription(request.Description);
        access.DemandNamespaceCreation(actor, request.Name);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            if (await db.Namespaces.AnyAsync(n => n.Name == request.Name, ct))
            {
                Fail.With(ErrorCodes.NamespaceExists, $"Namespace '{request.Name}' already exists.");
            }

            await AddAsync(actor, request.Name, request.Description, ct);
            return true;
        }, cancellationToken);
        access.Invalidate();
        return await GetAsync(request.Name, cancellationToken);
    }

    /// <summary>
    /// Creates a namespace inside the caller's transaction: the default stage policy, the creator as its
    /// admin, and an audit entry.
    /// </summary>
    internal async Task<RegistryNamespace> AddAsync(Actor actor, string name, string? description, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNewNamespace(name), ErrorCodes.InvalidName);
        access.DemandNamespaceCreation(actor, name);
        var now = clock.GetUtcNow().UtcDateTime;
        var space = new RegistryNamespace
        {
            Name = name,
            Description = description,
            CreatedAt = now,
            CreatedById = actor.UserId,
            MaxBytes = options.Value.DefaultMaxBytes,
            MaxVersions = options.Value.DefaultMaxVersions,
        };
        db.Namespaces.Add(space);
        await db.SaveChangesAsync(cancellationToken);
        foreach (var rule in StagePolicies.Defaults(space.Id, null))
        {
            rule.UpdatedAt = now;
            rule.UpdatedById = actor.UserId;
            db.StageRules.Add(rule);
        }

        if (actor.IsUser)
        {
            db.NamespaceMembers.Add(new NamespaceMember { NamespaceId = space.Id, UserId = actor.UserId, Role = NamespaceRole.Admin, GrantedAt = now, GrantedById = actor.UserId });
        }

        audit.Record("namespace.create", name, $"namespace {name}", new Dictionary<string, object?>
        {
            ["description"] = description,
            ["admin"] = actor.IsUser ? actor.Name : null,
            ["stages"] = string.Join(',', Names.DefaultStages),
        });
        events.Publish(EventTypes.NamespaceCreated, EventSubject.Of(space), after: new Dictionary<string, object?> { ["description"] = description });
        await db.SaveChangesAsync(cancellationToken);
        return space;
    }

    internal static void CheckDescription(string? description)
    {
        if (description is { Length: > Names.DescriptionMaxLength })
        {
            Fail.With(ErrorCodes.InvalidMetadata, $"The description is longer than {Names.DescriptionMaxLength} characters.");
        }
    }

    /// <summary>The namespace's quotas and usage.</summary>
    public async Task<QuotaInfo> GetQuotaAsync(string name, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNamespace(name), ErrorCodes.InvalidName);
        return await db.Namespaces.AsNoTracking().Where(n => n.Name == name && n.DeletedAt == null)
            .Select(n => new QuotaInfo(n.Name, n.MaxBytes, n.MaxVersions, n.UsedBytes, n.VersionCount))
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw Fail.Error(ErrorCodes.NamespaceNotFound, $"Namespace '{name}' does not exist.");
    }

    /// <summary>
    /// Sets both quotas of a namespace (null: unlimited). A quota below the current usage is allowed: the namespace keeps
    /// what it holds, and pushes are refused until enough is deleted.
    /// </summary>
    public async Task<QuotaInfo> SetQuotaAsync(string name, SetQuotaRequest request, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNamespace(name), ErrorCodes.InvalidName);
        if (request.MaxBytes is < 0 || request.MaxVersions is < 0)
        {
            Fail.With(ErrorCodes.InvalidRequest, "Quotas cannot be negative; leave a quota out (null) for unlimited.");
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            var space = await db.Namespaces.FirstOrDefaultAsync(n => n.Name == name && n.DeletedAt == null, ct)
                ?? throw Fail.Error(ErrorCodes.NamespaceNotFound, $"Namespace '{name}' does not exist.");
            var before = new Dictionary<string, object?> { ["maxBytes"] = space.MaxBytes, ["maxVersions"] = space.MaxVersions };
            space.MaxBytes = request.MaxBytes;
            space.MaxVersions = request.MaxVersions;
            audit.Record("namespace.quota", name, $"namespace {name}", new Dictionary<string, object?>
            {
                ["before"] = before,
                ["after"] = new Dictionary<string, object?> { ["maxBytes"] = request.MaxBytes, ["maxVersions"] = request.MaxVersions },
            });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return await GetQuotaAsync(name, cancellationToken);
    }

    private async Task<NamespaceInfo> ToInfoAsync(RegistryNamespace n, int models, CancellationToken cancellationToken) =>
        new(n.Name, n.Description, DtoMapper.Utc(n.CreatedAt), models, await policies.StageNamesAsync(n.Id, null, cancellationToken),
            n.UsedBytes, n.VersionCount, n.MaxBytes, n.MaxVersions);
}
