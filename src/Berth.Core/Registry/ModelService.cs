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
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

public sealed class ModelService(RegistryDbContext db, ModelLookup lookup, NamespaceService namespaces, NamespaceUsage usage, LifecycleService lifecycle, AuditTrail audit, EventLog events, TimeProvider clock)
{
    public async Task<Page<ModelInfo>> ListAsync(string ns, Paging paging, CancellationToken cancellationToken)
    {
        var space = await lookup.GetNamespaceAsync(ns, cancellationToken);
        var after = paging.AfterString() ?? "";
        var models = await db.Models.AsNoTracking().Include(m => m.Tags)
            .Where(m => m.NamespaceId == space.Id && m.DeletedAt == null && string.Compare(m.Name, after) > 0)
            .OrderBy(m => m.Name)
            .Take(paging.Limit + 1)
            .ToListAsync(cancellationToken);
        var page = paging.Page(models, m => m.Name);
        var infos = await ToInfosAsync(space, page.Items, cancellationToken);
        return new Page<ModelInfo>(infos, page.NextCursor);
    }

    public async Task<ModelInfo> GetAsync(string ns, string model, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        await db.Entry(entity).Collection(m => m.Tags).LoadAsync(cancellationToken);
        return (await ToInfosAsync(entity.Namespace, [entity], cancellationToken))[0];
    }

    public async Task<ModelInfo> CreateAsync(Actor actor, string ns, CreateModelRequest request, CancellationToken cancellationToken)
    {
        ModelLookup.ValidateNames(ns, request.Name);
        NamespaceService.CheckDescription(request.Description);
        var tags = ValidateTags(request.Tags);
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var space = await EnsureNamespaceAsync(actor, ns, ct);
            if (await db.Models.AnyAsync(m => m.NamespaceId == space.Id && m.Name == request.Name, ct))
            {
                Fail.With(ErrorCodes.ModelExists, $"Model '{ns}/{request.Name}' already exists.");
            }

            var now = clock.GetUtcNow().UtcDateTime;
            var created = new RegisteredModel
            {
                Namespace = space,
                Name = request.Name,
                Description = request.Description,
                CreatedAt = now,
                UpdatedAt = now,
                Revision = 1,
                Tags = tags.Select(t => new ModelTag { Key = t.Key, Value = t.Value }).ToList(),
            };
            db.Models.Add(created);
            audit.Record("model.create", ns, $"{ns}/{request.Name}", new Dictionary<string, object?> { ["description"] = request.Description, ["tags"] = tags });
            await db.SaveChangesAsync(ct);
            events.Publish(EventTypes.ModelCreated, EventSubject.Of(created), after: new Dictionary<string, object?> { ["description"] = request.Description, ["tags"] = tags });
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return await GetAsync(ns, request.Name, cancellationToken);
    }

    public async Task<ModelInfo> UpdateAsync(string ns, string model, UpdateModelRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        NamespaceService.CheckDescription(request.Description);
        var set = ValidateTags(request.SetTags);
        var remove = request.RemoveTags ?? [];
        foreach (var key in remove)
        {
            Fail.If(Names.CheckKey("tag", key), ErrorCodes.InvalidMetadata);
        }

        var what = $"Model '{ns}/{model}'";
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var entity = await lookup.GetModelAsync(ns, model, ct);
            await db.Entry(entity).Collection(m => m.Tags).LoadAsync(ct);
            Revisions.Check(expectedRevision, entity.Revision, what);
            var before = new Dictionary<string, object?> { ["description"] = entity.Description, ["tags"] = entity.Tags.ToDictionary(t => t.Key, t => t.Value) };
            if (request.Description is not null)
            {
                entity.Description = request.Description.Length == 0 ? null : request.Description;
            }

            entity.Tags.RemoveAll(t => remove.Contains(t.Key, StringComparer.Ordinal) || set.ContainsKey(t.Key));
            entity.Tags.AddRange(set.Select(t => new ModelTag { Key = t.Key, Value = t.Value }));
            entity.UpdatedAt = clock.GetUtcNow().UtcDateTime;
            entity.Revision++;
            var after = new Dictionary<string, object?> { ["description"] = entity.Description, ["tags"] = entity.Tags.ToDictionary(t => t.Key, t => t.Value) };
            audit.Record("model.update", ns, $"{ns}/{model}", new Dictionary<string, object?> { ["before"] = before, ["after"] = after });
            events.Publish(EventTypes.ModelUpdated, EventSubject.Of(entity), before: before, after: after);
            await Revisions.SaveAsync(db, what, ct);
            return true;
        }, cancellationToken);
        return await GetAsync(ns, model, cancellationToken);
    }

    /// <summary>Finds the namespace, creating it on first use (a push into a new namespace).</summary>
    /// <summary>
    /// Soft delete: the model leaves listings, pulls and pushes at once (its name stays taken); garbage
    /// collection purges its versions after the purge delay and then deletes the blobs nothing else uses.
    /// Its open transition requests are cancelled.
    /// </summary>
    public async Task DeleteAsync(Actor actor, string ns, string model, CancellationToken cancellationToken)
    {
        var found = await lookup.GetModelAsync(ns, model, cancellationToken);
        var id = found.Id;
        await db.InTransactionWithRetryAsync(async ct =>
        {
            // The usage lock first, then the versions it releases (NamespaceUsage).
            await usage.LockAsync(found.NamespaceId, ct);
            var entity = await db.Models.Include(m => m.Namespace).SingleAsync(m => m.Id == id, ct);
            if (entity.DeletedAt is not null)
            {
                Fail.With(ErrorCodes.ModelNotFound, $"Model '{ns}/{model}' does not exist.");
            }

            var data = new Dictionary<string, object?> { ["versions"] = await db.Versions.CountAsync(v => v.ModelId == id && v.State == VersionState.Ready, ct) };
            await lifecycle.CancelOpenRequestsAsync(actor, entity, null, "the model was deleted", ct);
            var released = await db.Versions.Where(v => v.ModelId == id && (v.State == VersionState.Pending || v.State == VersionState.Ready))
                .GroupBy(v => v.ModelId).Select(g => new { Bytes = g.Sum(v => v.TotalSize), Count = g.LongCount() }).FirstOrDefaultAsync(ct);
            entity.DeletedAt = clock.GetUtcNow().UtcDateTime;
            entity.Revision++;
            audit.Record("model.delete", ns, $"{ns}/{model}", data);
            events.Publish(EventTypes.ModelDeleted, EventSubject.Of(entity), data: data);
            await db.SaveChangesAsync(ct);
            if (released is not null)
            {
                await usage.AddAsync(found.NamespaceId, -released.Bytes, -released.Count, ct);
            }

            return true;
        }, cancellationToken);
    }

    internal async Task<RegistryNamespace> EnsureNamespaceAsync(Actor actor, string ns, CancellationToken cancellationToken)
    {
        var space = await db.Namespaces.FirstOrDefaultAsync(n => n.Name == ns, cancellationToken);
        if (space is { DeletedAt: not null })
        {
            Fail.With(ErrorCodes.NamespaceNotFound, $"Namespace '{ns}' was deleted.");
        }

        return space ?? await namespaces.AddAsync(actor, ns, null, cancellationToken);
    }

    /// <summary>Finds the model, creating it on first push.</summary>
    internal async Task<RegisteredModel> EnsureModelAsync(Actor actor, string ns, string model, CancellationToken cancellationToken)
    {
        var space = await EnsureNamespaceAsync(actor, ns, cancellationToken);
        var entity = space.Id == 0 ? null : await db.Models.FirstOrDefaultAsync(m => m.NamespaceId == space.Id && m.Name == model, cancellationToken);
        if (entity is { DeletedAt: not null })
        {
            Fail.With(ErrorCodes.ModelNotFound, $"Model '{ns}/{model}' was deleted.");
        }

        if (entity is null)
        {
            var now = clock.GetUtcNow().UtcDateTime;
            entity = new RegisteredModel { Namespace = space, Name = model, CreatedAt = now, UpdatedAt = now, Revision = 1 };
            db.Models.Add(entity);
            audit.Record("model.create", ns, $"{ns}/{model}");
            await db.SaveChangesAsync(cancellationToken);
            events.Publish(EventTypes.ModelCreated, EventSubject.Of(entity));
            await db.SaveChangesAsync(cancellationToken);
        }

        entity.Namespace = space;
        return entity;
    }

    internal static Dictionary<string, string> ValidateTags(IReadOnlyDictionary<string, string>? tags)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        if (tags is null)
        {
            return result;
        }

        if (tags.Count > 1000)
        {
            Fail.With(ErrorCodes.InvalidMetadata, "At most 1000 tags.");
        }

        foreach (var (key, value) in tags)
        {
            Fail.If(Names.CheckKey("tag", key), ErrorCodes.InvalidMetadata);
            Fail.If(Names.CheckTagValue(key, value), ErrorCodes.InvalidMetadata);
            result[key] = value;
        }

        return result;
    }

    private async Task<List<ModelInfo>> ToInfosAsync(RegistryNamespace space, IReadOnlyList<RegisteredModel> models, CancellationToken cancellationToken)
    {
        var ids = models.Select(m => m.Id).ToList();
        var stats = await db.Versions.AsNoTracking()
            .Where(v => ids.Contains(v.ModelId) && v.State == VersionState.Ready)
            .GroupBy(v => v.ModelId)
            .Select(g => new { ModelId = g.Key, Count = g.Count(), Latest = g.Max(v => v.Number) })
            .ToDictionaryAsync(s => s.ModelId, cancellationToken);
        var aliases = await db.Aliases.AsNoTracking()
            .Where(a => ids.Contains(a.ModelId))
            .Select(a => new { a.ModelId, a.Name, a.Version.Number })
            .ToListAsync(cancellationToken);
        var staged = await db.Versions.AsNoTracking()
            .Where(v => ids.Contains(v.ModelId) && v.State == VersionState.Ready && v.Stage != null)
            .Select(v => new { v.ModelId, Stage = v.Stage!, v.Number, v.StageChangedAt })
            .ToListAsync(cancellationToken);

        return models.Select(m =>
        {
            stats.TryGetValue(m.Id, out var s);
            return new ModelInfo(
                space.Name,
                m.Name,
                m.Description,
                m.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).ToDictionary(t => t.Key, t => t.Value),
                DtoMapper.Utc(m.CreatedAt),
                DtoMapper.Utc(m.UpdatedAt),
                s?.Count ?? 0,
                s?.Latest,
                aliases.Where(a => a.ModelId == m.Id).OrderBy(a => a.Name, StringComparer.Ordinal).ToDictionary(a => a.Name, a => a.Number),
                staged.Where(v => v.ModelId == m.Id)
                    .GroupBy(v => v.Stage)
                    .OrderBy(g => g.Key, StringComparer.Ordinal)
                    .ToDictionary(g => g.Key, g => g.OrderByDescending(v => v.StageChangedAt).ThenByDescending(v => v.Number).First().Number),
                m.Revision);
        }).ToList();
    }
}
