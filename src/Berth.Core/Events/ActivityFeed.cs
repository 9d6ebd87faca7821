using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Data;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Events;

/// <summary>One entry of recent activity: an event, with the few details a person reads in a list.</summary>
public sealed record ActivityItem(long Id, string Type, DateTimeOffset At, string Actor, string? Namespace, string? Model, int? Version, string? Detail);

/// <summary>
/// Recent activity from the event log, newest first: pushes, promotions, alias moves, requests and deployments in the
/// namespaces the actor may read (or in one namespace or model). Reads at most <see cref="MaxLimit"/> rows, walking the
/// event id index backwards.
/// </summary>
public sealed class ActivityFeed(RegistryDbContext db, AccessControl access)
{
    public const int MaxLimit = 100;

    /// <summary>The event types a person cares about in a feed (not version.created: version.ready follows it).</summary>
    public static IReadOnlyList<string> Types { get; } =
    [
        EventTypes.VersionReady, EventTypes.StageChanged, EventTypes.AliasMoved, EventTypes.AliasRemoved,
        EventTypes.RequestOpened, EventTypes.RequestApproved, EventTypes.RequestRejected, EventTypes.RequestApplied,
        EventTypes.DeploymentRecorded, EventTypes.ModelCreated, EventTypes.VersionDeleted, EventTypes.ModelDeleted,
    ];

    /// <summary>Recent events the actor may see; <paramref name="namespaceId"/> or <paramref name="modelId"/> narrow them (the caller checked read access there).</summary>
    public async Task<IReadOnlyList<ActivityItem>> RecentAsync(Actor actor, long? namespaceId, long? modelId, int limit, CancellationToken cancellationToken)
    {
        limit = Math.Clamp(limit, 1, MaxLimit);
        var types = Types;
        var query = db.Events.AsNoTracking().Where(e => types.Contains(e.Type));
        if (modelId is { } m)
        {
            query = query.Where(e => e.ModelId == m);
        }
        else if (namespaceId is { } n)
        {
            query = query.Where(e => e.NamespaceId == n);
        }
        else if (await access.ReadableNamespaceIdsAsync(actor, cancellationToken) is { } readable)
        {
            query = query.Where(e => e.NamespaceId != null && readable.Contains(e.NamespaceId.Value));
        }

        var rows = await query.OrderByDescending(e => e.Id).Take(limit).ToListAsync(cancellationToken);
        return rows.Select(e => new ActivityItem(e.Id, e.Type, DtoMapper.Utc(e.At), e.Actor, e.Namespace, e.Model, e.Version, Detail(e.Type, e.After, e.Data))).ToList();
    }

    /// <summary>The one value that makes the entry readable: the new stage, the alias, the environment.</summary>
    private static string? Detail(string type, string? after, string? data) => type switch
    {
        EventTypes.StageChanged => Read(after, "stage"),
        EventTypes.AliasMoved or EventTypes.AliasRemoved => Read(data, "alias"),
        EventTypes.DeploymentRecorded => Read(data, "environment"),
        EventTypes.RequestOpened or EventTypes.RequestApproved or EventTypes.RequestRejected or EventTypes.RequestApplied =>
            Read(data, "stage") ?? Read(data, "alias"),
        _ => null,
    };

    private static string? Read(string? json, string property)
    {
        if (json is null)
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(json);
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
