using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Events;

/// <summary>Which events a reader wants: after <c>Since</c>, optionally one namespace, one model, some types.</summary>
public sealed record EventQuery(long Since, string? Namespace, string? Model, IReadOnlyList<string>? Types, int? Limit);

/// <summary>
/// Reads the outbox for the event stream and the polling endpoint. A batch never goes past the committed event head,
/// so a reader that passes <see cref="EventBatch.Next"/> back never skips an event that commits later.
/// </summary>
public sealed class EventService(RegistryDbContext db, AccessControl access, ModelLookup lookup, TimeProvider clock)
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <summary>The query resolved once for a reader: the ids to filter on and what it may see.</summary>
    public sealed record Scope(long? NamespaceId, long? ModelId, IReadOnlyCollection<long>? Readable, IReadOnlyList<string>? Types, int Limit);

    /// <summary>Checks the reader's access and resolves names to ids (404 for unknown names, 403 without read access).</summary>
    public async Task<Scope> ResolveAsync(Actor actor, EventQuery query, CancellationToken cancellationToken)
    {
        if (query.Since < 0)
        {
            Fail.With(ErrorCodes.InvalidCursor, "'since' must be an event id (0 for the beginning).");
        }

        var limit = query.Limit ?? DefaultLimit;
        if (limit is < 1 or > MaxLimit)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"'limit' must be between 1 and {MaxLimit}.");
        }

        if (query.Types is { Count: > 0 } types && WebhookEvents.FirstUnknown(types) is { } unknown)
        {
            Fail.With(ErrorCodes.InvalidEventType, $"'{Names.Show(unknown)}' is not an event type; the types are: {string.Join(", ", EventTypes.All)}.");
        }

        var typeFilter = query.Types is { Count: > 0 } t && !t.Contains(WebhookEvents.All) ? t : null;
        if (query.Model is { } model)
        {
            var reference = ModelReference.TryParse(model, out var parsed, out _) && parsed is { Namespace: not null, HasSelector: false } ? parsed
                : throw Fail.Error(ErrorCodes.InvalidReference, $"'{Names.Show(model)}' is not a model name (namespace/model).");
            await access.DemandAsync(actor, Permission.Read, reference.Namespace, cancellationToken);
            var entity = await lookup.GetModelAsync(reference.Namespace!, reference.Model, cancellationToken);
            return new Scope(entity.NamespaceId, entity.Id, null, typeFilter, limit);
        }

        if (query.Namespace is { } ns)
        {
            await access.DemandAsync(actor, Permission.Read, ns, cancellationToken);
            var space = await lookup.GetNamespaceAsync(ns, cancellationToken);
            return new Scope(space.Id, null, null, typeFilter, limit);
        }

        // Every namespace the reader may see (null: all of them).
        return new Scope(null, null, await access.ReadableNamespaceIdsAsync(actor, cancellationToken), typeFilter, limit);
    }

    /// <summary>The reader's permissions again (a stream re-checks them now and then; roles may have changed).</summary>
    public async Task<Scope> RefreshAsync(Actor actor, Scope scope, CancellationToken cancellationToken)
    {
        access.Invalidate();
        if (scope.NamespaceId is { } id)
        {
            var name = await db.Namespaces.AsNoTracking().Where(n => n.Id == id).Select(n => n.Name).SingleAsync(cancellationToken);
            await access.DemandAsync(actor, Permission.Read, name, cancellationToken);
            return scope;
        }

        return scope with { Readable = await access.ReadableNamespaceIdsAsync(actor, cancellationToken) };
    }

    /// <summary>False once the reader's user is disabled or its token revoked or expired (a stream then ends).</summary>
    public async Task<bool> StillActiveAsync(Actor actor, CancellationToken cancellationToken)
    {
        if (!actor.IsUser)
        {
            return true;
        }

        var now = clock.GetUtcNow().UtcDateTime;
        if (await db.Users.AsNoTracking().AnyAsync(u => u.Id == actor.UserId && u.Disabled, cancellationToken))
        {
            return false;
        }

        return actor.TokenId is not { } tokenId
            || await db.ApiTokens.AsNoTracking().AnyAsync(t => t.Id == tokenId && t.RevokedAt == null && (t.ExpiresAt == null || t.ExpiresAt > now), cancellationToken);
    }

    public async Task<EventBatch> ReadAsync(Scope scope, long since, CancellationToken cancellationToken)
    {
        // Read the committed head first: every id up to it is committed, so the batch may stop there for good.
        var head = await db.EventHeads.AsNoTracking().Where(h => h.Id == OutboxInterceptor.HeadId).Select(h => h.LastId).FirstOrDefaultAsync(cancellationToken);
        if (head <= since)
        {
            return new EventBatch([], since, head);
        }

        var query = db.Events.AsNoTracking().Where(e => e.Id > since && e.Id <= head);
        if (scope.ModelId is { } modelId)
        {
            query = query.Where(e => e.ModelId == modelId);
        }
        else if (scope.NamespaceId is { } namespaceId)
        {
            query = query.Where(e => e.NamespaceId == namespaceId);
        }
        else if (scope.Readable is { } readable)
        {
            query = query.Where(e => e.NamespaceId != null && readable.Contains(e.NamespaceId.Value));
        }

        if (scope.Types is { } types)
        {
            query = query.Where(e => types.Contains(e.Type));
        }

        var rows = await query.OrderBy(e => e.Id).Take(scope.Limit).ToListAsync(cancellationToken);
        var next = rows.Count == scope.Limit ? rows[^1].Id : head;
        return new EventBatch(rows.Select(ToInfo).ToList(), next, head);
    }

    public static EventInfo ToInfo(EventRecord e) => new(
        e.Id, e.Type, DtoMapper.Utc(e.At), e.Actor, e.Namespace, e.Model, e.Version, Parse(e.Before), Parse(e.After), Parse(e.Data));

    private static JsonElement? Parse(string? json)
    {
        if (json is null)
        {
            return null;
        }

        // Cloned out of a disposed document: the document's pooled buffers go back at once.
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
