using System.Text.Json;

namespace Berth.Contracts.Dtos;

/// <summary>The event types Berth emits. Webhook subscriptions and stream filters name them; <c>*</c> means all.</summary>
public static class EventTypes
{
    public const string NamespaceCreated = "namespace.created";
    public const string NamespaceDeleted = "namespace.deleted";
    public const string ModelCreated = "model.created";
    public const string ModelUpdated = "model.updated";
    public const string ModelDeleted = "model.deleted";
    public const string VersionCreated = "version.created";
    public const string VersionReady = "version.ready";
    public const string VersionUpdated = "version.updated";
    public const string VersionFailed = "version.failed";
    public const string VersionDeleted = "version.deleted";
    public const string VersionEvaluated = "version.evaluated";
    public const string StageChanged = "stage.changed";
    public const string AliasMoved = "alias.moved";
    public const string AliasRemoved = "alias.removed";
    public const string RequestOpened = "request.opened";
    public const string RequestApproved = "request.approved";
    public const string RequestRejected = "request.rejected";
    public const string RequestCancelled = "request.cancelled";
    public const string RequestSuperseded = "request.superseded";
    public const string RequestApplied = "request.applied";
    public const string DeploymentRecorded = "deployment.recorded";
    public const string PolicyChanged = "policy.changed";
    public const string MemberChanged = "member.changed";
    public const string WebhookDisabled = "webhook.disabled";
    public const string RunStarted = "run.started";
    public const string RunFinished = "run.finished";
    public const string RunRegistered = "run.registered";

    /// <summary>The pickle scan found a file of a ready version that runs code when loaded (scan policy warn).</summary>
    public const string VersionFlagged = "version.flagged";

    /// <summary>Sent only by <c>berth webhook test</c>; never stored as an event.</summary>
    public const string Ping = "ping";

    public static IReadOnlyList<string> All { get; } =
    [
        NamespaceCreated, NamespaceDeleted, ModelCreated, ModelUpdated, ModelDeleted, VersionCreated, VersionReady, VersionUpdated, VersionFailed, VersionDeleted, VersionEvaluated,
        StageChanged, AliasMoved, AliasRemoved, RequestOpened, RequestApproved, RequestRejected, RequestCancelled, RequestSuperseded,
        RequestApplied, DeploymentRecorded, PolicyChanged, MemberChanged, WebhookDisabled, RunStarted, RunFinished, RunRegistered,
        VersionFlagged,
    ];
}

/// <summary>
/// One event: a change that committed, in a global order (<c>Id</c> only grows). Webhook bodies and the event
/// stream carry exactly this object. <c>Before</c> and <c>After</c> hold the fields that changed; <c>Data</c> holds
/// context (comment, request id, reason). <c>Model</c> is <c>namespace/name</c>.
/// </summary>
public sealed record EventInfo(
    long Id,
    string Type,
    DateTimeOffset Time,
    string Actor,
    string? Namespace,
    string? Model,
    int? Version,
    JsonElement? Before,
    JsonElement? After,
    JsonElement? Data);

/// <summary>
/// Events after a cursor. Pass <c>Next</c> back as <c>since</c>; it stays put when nothing new committed. <c>Head</c> is the
/// newest committed event id (of any namespace): <c>since=Head</c> follows from now on.
/// </summary>
public sealed record EventBatch(IReadOnlyList<EventInfo> Items, long Next, long Head);

public sealed record WebhookInfo(
    long Id,
    string Namespace,
    string Url,
    IReadOnlyList<string> Events,
    string? Model,
    string? Description,
    bool Enabled,
    string? DisabledReason,
    int ConsecutiveFailures,
    DateTimeOffset CreatedAt,
    string CreatedBy,
    string? Secret = null);

/// <summary>
/// Subscribes a URL to a namespace's events. <c>Events</c>: types or <c>*</c> (default: all); <c>Model</c>: only
/// this model's events. A missing <c>Secret</c> makes the server generate one, returned once in the response.
/// </summary>
public sealed record CreateWebhookRequest(string Url, string? Secret = null, IReadOnlyList<string>? Events = null, string? Model = null, string? Description = null);

/// <summary>Changes a webhook; null fields keep their value. Enabling a disabled webhook resets its failure count.</summary>
public sealed record UpdateWebhookRequest(string? Url = null, string? Secret = null, IReadOnlyList<string>? Events = null, string? Model = null, string? Description = null, bool? Enabled = null);

public static class DeliveryStates
{
    public const string Pending = "pending";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}

/// <summary>
/// One attempt to deliver an event: the receiver's status (null when no response came), or the error's category
/// (<see cref="DeliveryErrors"/>). <c>Response</c> (the first KiB of the receiver's answer) and <c>Detail</c> (the error
/// message) are shown only to server administrators: the receiver may be a service the namespace admin could not
/// otherwise read.
/// </summary>
public sealed record DeliveryAttemptInfo(int Number, DateTimeOffset StartedAt, double DurationMs, int? Status, string? Error, string? Response, string? Detail = null);

/// <summary>Why an attempt got no answer: the <c>error</c> of <see cref="DeliveryAttemptInfo"/>.</summary>
public static class DeliveryErrors
{
    /// <summary>The host resolves to an address webhooks may not call (loopback, private, link-local …).</summary>
    public const string AddressRefused = "address_refused";

    /// <summary>The host name does not resolve.</summary>
    public const string DnsFailure = "dns_failure";

    /// <summary>Nothing listens on the port (the connection was refused).</summary>
    public const string ConnectionRefused = "connection_refused";

    /// <summary>The connection could not be made or broke (unreachable network, reset).</summary>
    public const string ConnectionFailed = "connection_failed";

    /// <summary>No answer within the attempt's timeout.</summary>
    public const string Timeout = "timeout";

    /// <summary>The TLS handshake failed (untrusted or mismatched certificate, protocol).</summary>
    public const string TlsFailure = "tls_failure";

    /// <summary>The receiver's answer was not valid HTTP, or ended early.</summary>
    public const string HttpError = "http_error";

    /// <summary>The server could not decrypt the webhook's signing secret (its data-protection keys are missing).</summary>
    public const string SecretUnavailable = "secret_unavailable";

    public static IReadOnlyList<string> All { get; } = [AddressRefused, DnsFailure, ConnectionRefused, ConnectionFailed, Timeout, TlsFailure, HttpError, SecretUnavailable];
}

/// <summary>
/// One event on its way to one webhook: pending (waiting for its next attempt), succeeded, or failed (out of
/// attempts). <c>Attempts</c> lists every attempt when one delivery is read.
/// </summary>
public sealed record DeliveryInfo(
    long Id,
    long WebhookId,
    long? EventId,
    string EventType,
    string State,
    int AttemptCount,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? CompletedAt,
    int? LastStatus,
    long? RedeliveryOf,
    IReadOnlyList<DeliveryAttemptInfo>? Attempts = null);

public static class DeploymentStatuses
{
    public const string Deploying = "deploying";
    public const string Live = "live";
    public const string Retired = "retired";
    public const string Failed = "failed";

    public static IReadOnlyList<string> All { get; } = [Deploying, Live, Retired, Failed];
}

/// <summary>Reports that a version is (being) deployed to an environment, or no longer is.</summary>
public sealed record RecordDeploymentRequest(string Environment, string Status, string? Endpoint = null, string? Comment = null);

/// <summary>One deployment record: what a deployment system reported about a version in an environment.</summary>
public sealed record DeploymentInfo(
    long Id,
    string Namespace,
    string Model,
    int Version,
    string Environment,
    string? Endpoint,
    string Status,
    DateTimeOffset At,
    string Actor,
    string? Comment);

/// <summary>Where a version runs now: the latest record of each environment it was deployed to (retired ones left out).</summary>
public sealed record DeploymentState(string Environment, string? Endpoint, string Status, DateTimeOffset Since);
