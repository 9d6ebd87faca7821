using System.Collections.Frozen;

namespace Berth.Contracts.Errors;

/// <summary>Every error code Berth sends, with its HTTP status. Documented in docs/errors.md.</summary>
public static class ErrorCodes
{
    public const string TypeUriPrefix = "urn:berth:problem:";

    // 400: the request itself is wrong.
    public static readonly ErrorCode InvalidRequest = new("invalid_request", 400, "The request is invalid");
    public static readonly ErrorCode InvalidJson = new("invalid_json", 400, "The request body is not valid JSON for this operation");
    public static readonly ErrorCode UnknownField = new("unknown_field", 400, "The request body has a field this operation does not know");
    public static readonly ErrorCode InvalidName = new("invalid_name", 400, "A name breaks the naming rules");
    public static readonly ErrorCode InvalidReference = new("invalid_reference", 400, "The model reference or version selector is invalid");
    public static readonly ErrorCode InvalidAlias = new("invalid_alias", 400, "The alias name is invalid");
    public static readonly ErrorCode InvalidStage = new("invalid_stage", 400, "The stage is not valid here");
    public static readonly ErrorCode InvalidVersion = new("invalid_version", 400, "The semantic version is invalid");
    public static readonly ErrorCode InvalidPath = new("invalid_path", 400, "A file path is invalid");
    public static readonly ErrorCode InvalidDigest = new("invalid_digest", 400, "A digest is invalid");
    public static readonly ErrorCode InvalidMetadata = new("invalid_metadata", 400, "A metric, param, tag or lineage field is invalid");
    public static readonly ErrorCode InvalidFilter = new("invalid_filter", 400, "The filter expression is invalid");
    public static readonly ErrorCode InvalidCursor = new("invalid_cursor", 400, "The pagination cursor is invalid");
    public static readonly ErrorCode InvalidRange = new("invalid_range", 400, "The Content-Range or upload offset header is invalid");
    public static readonly ErrorCode InvalidRole = new("invalid_role", 400, "The role is not one of reader, writer, approver, admin");
    public static readonly ErrorCode InvalidEventType = new("invalid_event_type", 400, "An event type is not one Berth emits");
    public static readonly ErrorCode InvalidWebhookUrl = new("invalid_webhook_url", 400, "The webhook URL is not an absolute http(s) URL");
    public static readonly ErrorCode ForbiddenAddress = new("forbidden_address", 400, "The webhook URL points at an address the server may not call");
    public static readonly ErrorCode InvalidDeployment = new("invalid_deployment", 400, "The environment, status or endpoint of a deployment record is invalid");
    public static readonly ErrorCode TokenExpiryTooLate = new("token_expiry_too_late", 400, "The token would outlive the token that creates it, or the longest lifetime allowed");
    public static readonly ErrorCode EmptyVersion = new("empty_version", 400, "A version must list at least one file");
    public static readonly ErrorCode EmptySelection = new("empty_selection", 400, "The run has no file under the given path to register");
    public static readonly ErrorCode TooManyFiles = new("too_many_files", 400, "The version lists more files than the server allows");
    public static readonly ErrorCode FileTooLarge = new("file_too_large", 400, "A declared file is larger than the server allows");
    public static readonly ErrorCode WeakPassword = new("weak_password", 400, "The new password is too short or too long");

    // 401 / 403
    public static readonly ErrorCode TokenMissing = new("token_missing", 401, "An API token is required");
    public static readonly ErrorCode TokenMalformed = new("token_malformed", 401, "The API token is malformed");
    public static readonly ErrorCode TokenInvalid = new("token_invalid", 401, "The API token is not valid");
    public static readonly ErrorCode TokenExpired = new("token_expired", 401, "The API token has expired");
    public static readonly ErrorCode TokenRevoked = new("token_revoked", 401, "The API token was revoked");
    public static readonly ErrorCode UserDisabled = new("user_disabled", 401, "The user is disabled");
    public static readonly ErrorCode UserNotProvisioned = new("user_not_provisioned", 403, "The identity provider's user has no Berth account");
    public static readonly ErrorCode Forbidden = new("forbidden", 403, "The token may not do this");
    public static readonly ErrorCode SignInFailed = new("sign_in_failed", 401, "The user name or password is wrong");
    public static readonly ErrorCode PasswordChangeRequired = new("password_change_required", 403, "The password is a one-time password and must be changed at this sign-in");
    public static readonly ErrorCode SelfApproval = new("self_approval", 403, "A requester cannot approve their own request");
    public static readonly ErrorCode NamespaceCreationForbidden = new("namespace_creation_forbidden", 403, "The server's namespace creation setting does not let you create this namespace");

    // 404 / 410
    public static readonly ErrorCode NotFound = new("not_found", 404, "No such resource");
    public static readonly ErrorCode NamespaceNotFound = new("namespace_not_found", 404, "The namespace does not exist");
    public static readonly ErrorCode ModelNotFound = new("model_not_found", 404, "The model does not exist");
    public static readonly ErrorCode VersionNotFound = new("version_not_found", 404, "The version does not exist");
    public static readonly ErrorCode AliasNotFound = new("alias_not_found", 404, "The alias does not exist");
    public static readonly ErrorCode FileNotFound = new("file_not_found", 404, "The version has no such file");
    public static readonly ErrorCode UploadNotFound = new("upload_not_found", 404, "The upload session does not exist or has expired");
    public static readonly ErrorCode TokenNotFound = new("token_not_found", 404, "The token does not exist");
    public static readonly ErrorCode UserNotFound = new("user_not_found", 404, "The user does not exist");
    public static readonly ErrorCode TeamNotFound = new("team_not_found", 404, "The team does not exist");
    public static readonly ErrorCode MemberNotFound = new("member_not_found", 404, "The user or team has no role in the namespace");
    public static readonly ErrorCode RequestNotFound = new("request_not_found", 404, "The transition request does not exist");
    public static readonly ErrorCode WebhookNotFound = new("webhook_not_found", 404, "The webhook does not exist");
    public static readonly ErrorCode DeliveryNotFound = new("delivery_not_found", 404, "The webhook delivery does not exist");
    public static readonly ErrorCode RetentionNotSet = new("retention_not_set", 404, "The namespace or model has no retention policy of its own");
    public static readonly ErrorCode StageNotFound = new("stage_not_found", 404, "The policy has no such stage");
    public static readonly ErrorCode RunNotFound = new("run_not_found", 404, "The model has no such run");
    public static readonly ErrorCode VersionDeleted = new("version_deleted", 410, "The version was deleted");

    // 409 / 412 / 413 / 415 / 416 / 422 / 428
    public static readonly ErrorCode NamespaceExists = new("namespace_exists", 409, "The namespace already exists");
    public static readonly ErrorCode ModelExists = new("model_exists", 409, "The model already exists");
    public static readonly ErrorCode VersionExists = new("version_exists", 409, "A version with this semantic version already exists");
    public static readonly ErrorCode VersionNotReady = new("version_not_ready", 409, "The version is not ready");
    public static readonly ErrorCode VersionNotPending = new("version_not_pending", 409, "The version is no longer pending");
    public static readonly ErrorCode BlobsMissing = new("blobs_missing", 409, "Some files have not been uploaded yet");
    public static readonly ErrorCode UploadOffsetMismatch = new("upload_offset_mismatch", 409, "The chunk does not start at the upload's current offset");
    public static readonly ErrorCode UploadBusy = new("upload_busy", 409, "Another request is writing to this upload");
    public static readonly ErrorCode UploadModeConflict = new("upload_mode_conflict", 409, "The upload is written the other way (through Berth, or straight to the object store)");
    public static readonly ErrorCode DirectUploadUnavailable = new("direct_upload_unavailable", 409, "This server takes upload bytes only through itself");
    public static readonly ErrorCode DigestMismatch = new("digest_mismatch", 400, "The uploaded bytes do not match the declared digest");
    public static readonly ErrorCode SizeMismatch = new("size_mismatch", 400, "The uploaded bytes do not match the declared size");
    public static readonly ErrorCode QuotaExceeded = new("quota_exceeded", 409, "The push would exceed the namespace's storage quota");
    public static readonly ErrorCode Conflict = new("conflict", 409, "The change conflicts with the current state");
    public static readonly ErrorCode UserExists = new("user_exists", 409, "A user with this name already exists");
    public static readonly ErrorCode TeamExists = new("team_exists", 409, "A team with this name already exists");
    public static readonly ErrorCode RequestClosed = new("request_closed", 409, "The transition request is no longer open");
    public static readonly ErrorCode AlreadyReviewed = new("already_reviewed", 409, "You have already reviewed this request");
    public static readonly ErrorCode GateFailed = new("gate_failed", 409, "The version does not satisfy the stage's gate");
    public static readonly ErrorCode StageInUse = new("stage_in_use", 409, "Versions are in this stage; move them first");
    public static readonly ErrorCode AliasProtected = new("alias_protected", 409, "The alias is protected: moving it needs an approved request");
    public static readonly ErrorCode BlobCorrupt = new("blob_corrupt", 409, "A file's stored bytes are missing or corrupt; the blob is quarantined");
    public static readonly ErrorCode FsckRunning = new("fsck_running", 409, "A scrub (berth fsck) is already running");
    public static readonly ErrorCode NameConflict = new("name_conflict", 409, "The name is already used by an alias or a stage");
    public static readonly ErrorCode RunEnded = new("run_ended", 409, "The run has ended: it takes no more metrics and no other end");
    public static readonly ErrorCode PreconditionFailed = new("precondition_failed", 412, "The resource changed since you read it (If-Match)");
    public static readonly ErrorCode BodyTooLarge = new("body_too_large", 413, "The request body is too large");
    public static readonly ErrorCode BatchTooLarge = new("batch_too_large", 413, "The metric batch has more points or bytes than the server accepts (Runs:MaxBatchPoints, Runs:MaxBatchBytes)");
    public static readonly ErrorCode UnsupportedMediaType = new("unsupported_media_type", 415, "The request body has the wrong content type");
    public static readonly ErrorCode RangeNotSatisfiable = new("range_not_satisfiable", 416, "The requested range is outside the file");
    public static readonly ErrorCode IdempotencyKeyReused = new("idempotency_key_reused", 422, "The Idempotency-Key was used for a different request");
    public static readonly ErrorCode UnsafeModel = new("unsafe_model", 422, "A file of the version runs code when it is loaded, and the namespace's scan policy is block");
    public static readonly ErrorCode IdempotencyInProgress = new("idempotency_in_progress", 409, "A request with this Idempotency-Key is still being processed");
    public static readonly ErrorCode MethodNotAllowed = new("method_not_allowed", 405, "The method is not allowed on this resource");
    public static readonly ErrorCode TooManyAttempts = new("too_many_attempts", 429, "Too many failed sign-ins; wait before trying again");
    public static readonly ErrorCode RateLimited = new("rate_limited", 429, "Too many requests; wait before trying again");

    // 5xx
    public static readonly ErrorCode Internal = new("internal_error", 500, "The server failed; the request id identifies it in the logs");
    public static readonly ErrorCode Unavailable = new("service_unavailable", 503, "A backing store is unavailable; retry later");
    public static readonly ErrorCode StorageFailed = new("storage_failed", 503, "The blob store failed");
    public static readonly ErrorCode InsufficientStorage = new("insufficient_storage", 507, "The server's storage is full");

    /// <summary>All codes by their string, for clients that map a problem back to its definition.</summary>
    public static FrozenDictionary<string, ErrorCode> All { get; } = typeof(ErrorCodes)
        .GetFields(System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)
        .Where(f => f.FieldType == typeof(ErrorCode))
        .Select(f => (ErrorCode)f.GetValue(null)!)
        .ToFrozenDictionary(c => c.Code, StringComparer.Ordinal);
}
