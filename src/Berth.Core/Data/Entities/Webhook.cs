namespace Berth.Core.Data.Entities;

/// <summary>A subscription of a URL to a namespace's events (optionally one model's, optionally some types).</summary>
public sealed class Webhook
{
    public long Id { get; set; }
    public long NamespaceId { get; set; }
    public RegistryNamespace Namespace { get; set; } = null!;
    public required string Url { get; set; }

    /// <summary>Event types, comma-separated; <c>*</c> for all.</summary>
    public required string Events { get; set; }

    public long? ModelId { get; set; }
    public RegisteredModel? Model { get; set; }
    public string? Description { get; set; }

    /// <summary>
    /// The HMAC key for signatures, encrypted with the server's data-protection keys (<c>WebhookSecrets</c>): the server
    /// needs it to sign, so it cannot be a hash; it is never returned.
    /// </summary>
    public string? ProtectedSecret { get; set; }

    /// <summary>
    /// A secret an older Berth kept in plain text (column <c>secret</c>); start-up encrypts it into
    /// <see cref="ProtectedSecret"/> and clears it.
    /// </summary>
    public string? LegacySecret { get; set; }

    public bool Enabled { get; set; }
    public string? DisabledReason { get; set; }

    /// <summary>Deliveries that ran out of attempts since the last success; at the limit the webhook is disabled.</summary>
    public int ConsecutiveFailures { get; set; }

    public DateTime CreatedAt { get; set; }
    public long CreatedById { get; set; }
    public User CreatedBy { get; set; } = null!;
    public long Revision { get; set; }
}

/// <summary>
/// One event on its way to one webhook. A worker claims it by writing its lease (an update that only one replica can
/// win), makes the attempt, and records it; a lease that runs out (a replica died mid-attempt) makes it claimable again.
/// </summary>
public sealed class WebhookDelivery
{
    public long Id { get; set; }
    public long WebhookId { get; set; }
    public Webhook Webhook { get; set; } = null!;

    /// <summary>Null for a ping.</summary>
    public long? EventId { get; set; }

    public EventRecord? Event { get; set; }
    public required string EventType { get; set; }
    public required string State { get; set; }
    public int AttemptCount { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? NextAttemptAt { get; set; }
    public DateTime? CompletedAt { get; set; }
    public int? LastStatus { get; set; }
    public long? RedeliveryOf { get; set; }
    public Guid? LeaseOwner { get; set; }
    public DateTime? LeaseUntil { get; set; }
    public List<WebhookAttempt> Attempts { get; set; } = [];
}

public sealed class WebhookAttempt
{
    public long Id { get; set; }
    public long DeliveryId { get; set; }
    public int Number { get; set; }
    public DateTime StartedAt { get; set; }
    public double DurationMs { get; set; }
    public int? Status { get; set; }

    /// <summary>Why there was no answer: one of <c>DeliveryErrors</c> (shown to namespace admins).</summary>
    public string? Error { get; set; }

    /// <summary>The error's message (server administrators only: it may describe the server's network).</summary>
    public string? Detail { get; set; }

    /// <summary>The first KiB of the receiver's answer (server administrators only).</summary>
    public string? Response { get; set; }
}
