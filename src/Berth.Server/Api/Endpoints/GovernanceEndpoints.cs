using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Governance;
using Berth.Core.Registry;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Namespace members, stage policies, protected aliases, transition requests and time travel.</summary>
internal static class GovernanceEndpoints
{
    public static RouteGroupBuilder MapGovernance(this RouteGroupBuilder api)
    {
        var members = api.MapGroup("/namespaces/{namespace}/members").WithTags("Members");
        members.MapGet("/", ListMembers).Needs(Permission.Read).WithName("ListMembers").WithSummary("Users and teams with a role in the namespace");
        members.MapPut("/", SetMember).Needs(Permission.Admin).WithName("SetMember").WithSummary("Grant or change the role of a user or a team");
        members.MapDelete("/users/{user}", RemoveUser).Needs(Permission.Admin).WithName("RemoveNamespaceUser").WithSummary("Take a user's role away");
        members.MapDelete("/teams/{team}", RemoveTeam).Needs(Permission.Admin).WithName("RemoveNamespaceTeam").WithSummary("Take a team's role away");

        var policy = api.MapGroup("/namespaces/{namespace}/policy").WithTags("Policies");
        policy.MapGet("/", GetNamespacePolicy).Needs(Permission.Read).WithName("GetNamespacePolicy").WithSummary("The namespace's ordered stages and their rules");
        policy.MapPut("/stages/{stage}", SetNamespaceStage).Needs(Permission.Admin).WithName("SetNamespaceStage")
            .WithSummary("Create or change a stage: exclusive, required approvals, gate, position");
        policy.MapDelete("/stages/{stage}", RemoveNamespaceStage).Needs(Permission.Admin).WithName("RemoveNamespaceStage").WithSummary("Remove a stage (refused while versions are in it)");

        var modelPolicy = api.MapGroup("/models/{namespace}/{model}/policy").WithTags("Policies");
        modelPolicy.MapGet("/", GetModelPolicy).Needs(Permission.Read).WithName("GetModelPolicy").WithSummary("The policy in force for a model (its own, or its namespace's)");
        modelPolicy.MapPut("/stages/{stage}", SetModelStage).Needs(Permission.Admin).WithName("SetModelStage")
            .WithSummary("Change a stage for this model only (the model gets its own copy of the namespace's policy)");
        modelPolicy.MapDelete("/stages/{stage}", RemoveModelStage).Needs(Permission.Admin).WithName("RemoveModelStage").WithSummary("Remove a stage from the model's own policy");
        modelPolicy.MapDelete("/", ResetModelPolicy).Needs(Permission.Admin).WithName("ResetModelPolicy").WithSummary("Drop the model's own policy and follow the namespace's");

        var protectedAliases = api.MapGroup("/models/{namespace}/{model}/protected-aliases").WithTags("Aliases");
        protectedAliases.MapGet("/", ListProtected).Needs(Permission.Read).WithName("ListProtectedAliases").WithSummary("Aliases whose moves need approvals");
        protectedAliases.MapPut("/{alias}", Protect).Needs(Permission.Admin).WithName("ProtectAlias").WithSummary("Make moving an alias need approvals");
        protectedAliases.MapDelete("/{alias}", Unprotect).Needs(Permission.Admin).WithName("UnprotectAlias").WithSummary("Stop protecting an alias");

        // Requests are addressed by id; the service checks the role in the request's namespace.
        var requests = api.MapGroup("/requests").WithTags("Requests");
        requests.MapGet("/", ListRequests).Needs(Permission.Read).WithName("ListRequests").WithSummary("Transition requests (namespace and state filters; default: open)");
        requests.MapGet("/{id:long}", GetRequest).Needs(Permission.Read).WithName("GetRequest").WithSummary("One request with its reviews and gate result");
        requests.MapPost("/{id:long}/approve", Approve).Needs(Permission.Read).WithName("ApproveRequest")
            .WithSummary("Approve (approvers other than the requester); applied when enough approvals are in");
        requests.MapPost("/{id:long}/reject", Reject).Needs(Permission.Read).WithName("RejectRequest").WithSummary("Reject a request (approvers)");
        requests.MapPost("/{id:long}/cancel", Cancel).Needs(Permission.Read).WithName("CancelRequest").WithSummary("Withdraw a request (its requester or a namespace admin)");

        api.MapGet("/models/{namespace}/{model}/history/holders", Holders).Needs(Permission.Read).WithTags("History").WithName("GetHolders")
            .WithSummary("Which versions held a stage, or which version an alias named, at a moment (?at=&stage= or ?at=&alias=)");
        return api;
    }

    private static async Task<Ok<Page<MemberInfo>>> ListMembers(MembershipService members, string @namespace, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await members.ListAsync(@namespace, new Paging(limit, cursor), cancellationToken));

    private static async Task<Ok<MemberInfo>> SetMember(HttpContext context, MembershipService members, string @namespace, SetMemberRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await members.SetAsync(context.GetActor(), @namespace, request, cancellationToken));

    private static async Task<NoContent> RemoveUser(MembershipService members, string @namespace, string user, CancellationToken cancellationToken)
    {
        await members.RemoveAsync(@namespace, user, null, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<NoContent> RemoveTeam(MembershipService members, string @namespace, string team, CancellationToken cancellationToken)
    {
        await members.RemoveAsync(@namespace, null, team, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<PolicyInfo>> GetNamespacePolicy(PolicyService policies, string @namespace, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.GetAsync(@namespace, null, cancellationToken));

    private static async Task<Ok<PolicyInfo>> SetNamespaceStage(HttpContext context, PolicyService policies, string @namespace, string stage, SetStageRuleRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.SetStageAsync(context.GetActor(), @namespace, null, stage, request, cancellationToken));

    private static async Task<Ok<PolicyInfo>> RemoveNamespaceStage(HttpContext context, PolicyService policies, string @namespace, string stage, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.RemoveStageAsync(context.GetActor(), @namespace, null, stage, cancellationToken));

    private static async Task<Ok<PolicyInfo>> GetModelPolicy(PolicyService policies, string @namespace, string model, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.GetAsync(@namespace, model, cancellationToken));

    private static async Task<Ok<PolicyInfo>> SetModelStage(HttpContext context, PolicyService policies, string @namespace, string model, string stage, SetStageRuleRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.SetStageAsync(context.GetActor(), @namespace, model, stage, request, cancellationToken));

    private static async Task<Ok<PolicyInfo>> RemoveModelStage(HttpContext context, PolicyService policies, string @namespace, string model, string stage, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.RemoveStageAsync(context.GetActor(), @namespace, model, stage, cancellationToken));

    private static async Task<Ok<PolicyInfo>> ResetModelPolicy(HttpContext context, PolicyService policies, string @namespace, string model, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.ResetModelAsync(context.GetActor(), @namespace, model, cancellationToken));

    private static async Task<Ok<IReadOnlyList<ProtectedAliasInfo>>> ListProtected(PolicyService policies, string @namespace, string model, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.ProtectedAliasesAsync(@namespace, model, cancellationToken));

    private static async Task<Ok<ProtectedAliasInfo>> Protect(HttpContext context, PolicyService policies, string @namespace, string model, string alias, ProtectAliasRequest? request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await policies.ProtectAliasAsync(context.GetActor(), @namespace, model, alias, request ?? new ProtectAliasRequest(), cancellationToken));

    private static async Task<NoContent> Unprotect(PolicyService policies, string @namespace, string model, string alias, CancellationToken cancellationToken)
    {
        await policies.UnprotectAliasAsync(@namespace, model, alias, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<Page<RequestInfo>>> ListRequests(HttpContext context, RequestService requests, string? @namespace, string? state, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await requests.ListAsync(context.GetActor(), @namespace, state ?? RequestStates.Open, new Paging(limit, cursor), cancellationToken));

    private static async Task<Ok<RequestInfo>> GetRequest(HttpContext context, RequestService requests, long id, CancellationToken cancellationToken) =>
        TypedResults.Ok(await requests.GetAsync(context.GetActor(), id, cancellationToken));

    private static async Task<Ok<RequestInfo>> Approve(HttpContext context, RequestService requests, long id, ReviewRequest? review, CancellationToken cancellationToken) =>
        TypedResults.Ok(await requests.ApproveAsync(context.GetActor(), id, review ?? new ReviewRequest(), cancellationToken));

    private static async Task<Ok<RequestInfo>> Reject(HttpContext context, RequestService requests, long id, ReviewRequest? review, CancellationToken cancellationToken) =>
        TypedResults.Ok(await requests.RejectAsync(context.GetActor(), id, review ?? new ReviewRequest(), cancellationToken));

    private static async Task<Ok<RequestInfo>> Cancel(HttpContext context, RequestService requests, long id, ReviewRequest? review, CancellationToken cancellationToken) =>
        TypedResults.Ok(await requests.CancelAsync(context.GetActor(), id, review ?? new ReviewRequest(), cancellationToken));

    private static async Task<Ok<HoldersInfo>> Holders(HistoryService history, string @namespace, string model, DateTimeOffset? at, string? stage, string? alias, CancellationToken cancellationToken) =>
        TypedResults.Ok(await history.HoldersAsync(@namespace, model, at ?? DateTimeOffset.UtcNow, stage, alias, cancellationToken));
}
