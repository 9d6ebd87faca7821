using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Berth.Contracts.Dtos;

namespace Berth.Client;

public sealed partial class BerthClient
{
    // Users (server administrators), sign-in and passwords.

    public IAsyncEnumerable<UserDetails> ListUsersAsync(CancellationToken cancellationToken = default) =>
        PagesAsync(ApiPrefix + "users", Json.PageUserDetails, cancellationToken);

    public Task<UserDetails> GetUserAsync(string user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}users/{Segment(user)}", null, Json.UserDetails, cancellationToken);

    /// <summary>Creates a user; the answer holds its one-time password (to be changed at the first sign-in).</summary>
    public Task<CreatedUser> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, ApiPrefix + "users", request, Json.CreatedUser, cancellationToken, WithIdempotencyKey());

    public Task<UserDetails> UpdateUserAsync(string user, UpdateUserRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, $"{ApiPrefix}users/{Segment(user)}", request, Json.UserDetails, cancellationToken);

    public Task<CreatedUser> ResetPasswordAsync(string user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}users/{Segment(user)}/password-reset", null, Json.CreatedUser, cancellationToken);

    /// <summary>Signs in with a password (no token needed) and returns a new session token.</summary>
    public Task<SignInResponse> SignInAsync(SignInRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, ApiPrefix + "sessions", request, Json.SignInResponse, cancellationToken);

    public Task ChangePasswordAsync(ChangePasswordRequest request, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Put, ApiPrefix + "whoami/password", request, cancellationToken);

    // Teams (server administrators).

    public IAsyncEnumerable<TeamInfo> ListTeamsAsync(CancellationToken cancellationToken = default) =>
        PagesAsync(ApiPrefix + "teams", Json.PageTeamInfo, cancellationToken);

    public Task<TeamInfo> GetTeamAsync(string team, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}teams/{Segment(team)}", null, Json.TeamInfo, cancellationToken);

    public Task<TeamInfo> CreateTeamAsync(CreateTeamRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, ApiPrefix + "teams", request, Json.TeamInfo, cancellationToken, WithIdempotencyKey());

    public Task DeleteTeamAsync(string team, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, $"{ApiPrefix}teams/{Segment(team)}", null, cancellationToken);

    public Task<TeamInfo> AddTeamMemberAsync(string team, string user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"{ApiPrefix}teams/{Segment(team)}/members/{Segment(user)}", null, Json.TeamInfo, cancellationToken);

    public Task<TeamInfo> RemoveTeamMemberAsync(string team, string user, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"{ApiPrefix}teams/{Segment(team)}/members/{Segment(user)}", null, Json.TeamInfo, cancellationToken);

    // Namespace members.

    public IAsyncEnumerable<MemberInfo> ListMembersAsync(string ns, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ApiPrefix}namespaces/{Segment(ns)}/members", Json.PageMemberInfo, cancellationToken);

    /// <summary>Grants a role (reader, writer, approver, admin) to a user or a team.</summary>
    public Task<MemberInfo> SetMemberAsync(string ns, SetMemberRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"{ApiPrefix}namespaces/{Segment(ns)}/members", request, Json.MemberInfo, cancellationToken);

    public Task RemoveMemberAsync(string ns, string? user = null, string? team = null, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete,
            user is not null ? $"{ApiPrefix}namespaces/{Segment(ns)}/members/users/{Segment(user)}" : $"{ApiPrefix}namespaces/{Segment(ns)}/members/teams/{Segment(team ?? throw new ArgumentException("Name a user or a team."))}",
            null, cancellationToken);

    // Stage policies and protected aliases.

    /// <summary>The policy of a namespace, or (with <paramref name="model"/>) the one in force for a model.</summary>
    public Task<PolicyInfo> GetPolicyAsync(string ns, string? model = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, PolicyPath(ns, model), null, Json.PolicyInfo, cancellationToken);

    public Task<PolicyInfo> SetStageRuleAsync(string ns, string? model, string stage, SetStageRuleRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"{PolicyPath(ns, model)}/stages/{Segment(stage)}", request, Json.PolicyInfo, cancellationToken);

    public Task<PolicyInfo> RemoveStageRuleAsync(string ns, string? model, string stage, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"{PolicyPath(ns, model)}/stages/{Segment(stage)}", null, Json.PolicyInfo, cancellationToken);

    public Task<PolicyInfo> ResetModelPolicyAsync(string ns, string model, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, PolicyPath(ns, model), null, Json.PolicyInfo, cancellationToken);

    public async Task<IReadOnlyList<ProtectedAliasInfo>> ListProtectedAliasesAsync(string ns, string model, CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, $"{ModelPath(ns, model)}/protected-aliases", null, cancellationToken).ConfigureAwait(false);
        var list = await JsonSerializer.DeserializeAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Json.IReadOnlyListProtectedAliasInfo, cancellationToken).ConfigureAwait(false);
        return list ?? [];
    }

    public Task<ProtectedAliasInfo> ProtectAliasAsync(string ns, string model, string alias, int requiredApprovals = 1, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"{ModelPath(ns, model)}/protected-aliases/{Segment(alias)}", new ProtectAliasRequest(requiredApprovals), Json.ProtectedAliasInfo, cancellationToken);

    public Task UnprotectAliasAsync(string ns, string model, string alias, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, $"{ModelPath(ns, model)}/protected-aliases/{Segment(alias)}", null, cancellationToken);

    // Transition requests.

    /// <summary>Requests, optionally of one namespace; <paramref name="state"/>: open (default), applied, rejected, cancelled, superseded or all.</summary>
    public IAsyncEnumerable<RequestInfo> ListRequestsAsync(string? ns = null, string? state = null, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ApiPrefix}requests{Query(("namespace", ns), ("state", state))}", Json.PageRequestInfo, cancellationToken);

    public Task<RequestInfo> GetRequestAsync(long id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}requests/{id}", null, Json.RequestInfo, cancellationToken);

    public Task<RequestInfo> ApproveRequestAsync(long id, string? comment = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}requests/{id}/approve", new ReviewRequest(comment), Json.RequestInfo, cancellationToken);

    public Task<RequestInfo> RejectRequestAsync(long id, string? comment = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}requests/{id}/reject", new ReviewRequest(comment), Json.RequestInfo, cancellationToken);

    public Task<RequestInfo> CancelRequestAsync(long id, string? comment = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}requests/{id}/cancel", new ReviewRequest(comment), Json.RequestInfo, cancellationToken);

    // Audit log (server administrators).

    public IAsyncEnumerable<AuditEntryInfo> ListAuditAsync(DateTimeOffset? since = null, DateTimeOffset? until = null, string? ns = null, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ApiPrefix}audit{Query(("since", Time(since)), ("until", Time(until)), ("namespace", ns))}", Json.PageAuditEntryInfo, cancellationToken);

    /// <summary>Streams the audit log as JSON lines (one <see cref="AuditEntryInfo"/> per line) into <paramref name="destination"/>.</summary>
    public async Task ExportAuditAsync(Stream destination, DateTimeOffset? since = null, DateTimeOffset? until = null, string? ns = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{ApiPrefix}audit/export{Query(("since", Time(since)), ("until", Time(until)), ("namespace", ns))}");
        using var response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
        using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await body.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Asks the server to recompute the audit hash chain.</summary>
    public Task<AuditVerification> VerifyAuditAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, ApiPrefix + "audit/verify", null, Json.AuditVerification, cancellationToken);

    private static string PolicyPath(string ns, string? model) =>
        model is null ? $"{ApiPrefix}namespaces/{Segment(ns)}/policy" : $"{ModelPath(ns, model)}/policy";

    private static string? Time(DateTimeOffset? value) => value?.UtcDateTime.ToString("O", CultureInfo.InvariantCulture);
}
