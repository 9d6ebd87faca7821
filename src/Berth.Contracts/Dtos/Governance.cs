namespace Berth.Contracts.Dtos;

public static class Roles
{
    public const string Reader = "reader";
    public const string Writer = "writer";
    public const string Approver = "approver";
    public const string Admin = "admin";
}

/// <summary>A role in a namespace, held by a user or a team.</summary>
public sealed record MemberInfo(string Namespace, string? User, string? Team, string Role, DateTimeOffset GrantedAt, string GrantedBy);

/// <summary>Grants <c>Role</c> (reader, writer, approver, admin) to a <c>User</c> or a <c>Team</c> (exactly one).</summary>
public sealed record SetMemberRequest(string Role, string? User = null, string? Team = null);

public sealed record StageRuleInfo(string Stage, int Position, bool Exclusive, int RequiredApprovals, string? Gate, DateTimeOffset UpdatedAt);

/// <summary>The stage policy in force for a namespace, or for a model (<c>Inherited</c>: the model uses its namespace's).</summary>
public sealed record PolicyInfo(string Namespace, string? Model, bool Inherited, IReadOnlyList<StageRuleInfo> Stages);

/// <summary>Creates or changes one stage of a policy. Null fields keep their value (defaults for a new stage); an empty gate removes it.</summary>
public sealed record SetStageRuleRequest(bool? Exclusive = null, int? RequiredApprovals = null, string? Gate = null, int? Position = null);

public sealed record ProtectedAliasInfo(string Name, int RequiredApprovals, DateTimeOffset CreatedAt, string CreatedBy);

public sealed record ProtectAliasRequest(int RequiredApprovals = 1);

public sealed record GateClauseInfo(string Clause, string Actual, bool Passed);

public sealed record GateResultInfo(bool Passed, string Expression, string Summary, IReadOnlyList<GateClauseInfo> Failures, IReadOnlyList<GateClauseInfo> Checked);

public sealed record ReviewInfo(string Reviewer, string Decision, string? Comment, DateTimeOffset At);

public static class RequestStates
{
    public const string Open = "open";
    public const string Applied = "applied";
    public const string Rejected = "rejected";
    public const string Cancelled = "cancelled";
    public const string Superseded = "superseded";
}

/// <summary>A transition request: move a version into a protected stage, or a protected alias onto a version.</summary>
public sealed record RequestInfo(
    long Id,
    string Namespace,
    string Model,
    int Version,
    string Kind,
    string? Stage,
    string? Alias,
    string State,
    int RequiredApprovals,
    int Approvals,
    string Requester,
    string? Comment,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ClosedAt,
    string? ClosedBy,
    string? CloseReason,
    GateResultInfo? Gate,
    IReadOnlyList<ReviewInfo> Reviews)
{
    public string Target => Kind == "alias" ? $"alias {Alias}" : $"stage {Stage}";
}

public sealed record ReviewRequest(string? Comment = null);

public static class TransitionOutcomes
{
    /// <summary>The change was made.</summary>
    public const string Applied = "applied";

    /// <summary>The target is protected: a request was opened and waits for approvals.</summary>
    public const string Requested = "requested";

    /// <summary>Nothing to do: the version already was in that stage (or the alias already pointed there).</summary>
    public const string Unchanged = "unchanged";
}

/// <summary>The result of a stage change or alias move: applied at once, or turned into a request.</summary>
public sealed record TransitionResult(string Outcome, VersionInfo Version, AliasInfo? Alias = null, RequestInfo? Request = null);

/// <summary>Which versions held a stage, or which version an alias pointed to, at a moment.</summary>
public sealed record HoldersInfo(string Namespace, string Model, DateTimeOffset At, string? Stage, string? Alias, IReadOnlyList<int> Versions);

public sealed record AuditEntryInfo(
    long Id,
    DateTimeOffset At,
    string Actor,
    string Action,
    string? Namespace,
    string? Target,
    string? Details,
    string? ClientAddress,
    string? RequestId,
    string PreviousHash,
    string Hash);

/// <summary>The outcome of checking the audit chain: the first broken entry and why, if any.</summary>
public sealed record AuditVerification(bool Valid, long Entries, long? FirstBrokenId, string? Problem, double Seconds);
