using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>Users and teams, managed by server administrators.</summary>
internal static class AdminEndpoints
{
    public static RouteGroupBuilder MapAdmin(this RouteGroupBuilder api)
    {
        var users = api.MapGroup("/users").WithTags("Users").NeedsServerAdmin();
        users.MapGet("/", ListUsers).WithName("ListUsers").WithSummary("All users");
        users.MapPost("/", CreateUser).Idempotent().WithName("CreateUser").WithSummary("Create a user; the answer holds a one-time password");
        users.MapGet("/{user}", GetUser).WithName("GetUser").WithSummary("One user");
        users.MapPatch("/{user}", UpdateUser).WithName("UpdateUser").WithSummary("Change email, display name, administrator flag or disable a user (its tokens stop working at once)");
        users.MapPost("/{user}/password-reset", ResetPassword).WithName("ResetPassword").WithSummary("Give a user a new one-time password");

        var teams = api.MapGroup("/teams").WithTags("Teams").NeedsServerAdmin();
        teams.MapGet("/", ListTeams).WithName("ListTeams").WithSummary("All teams");
        teams.MapPost("/", CreateTeam).Idempotent().WithName("CreateTeam").WithSummary("Create a team (optionally mapped to an OIDC group)");
        teams.MapGet("/{team}", GetTeam).WithName("GetTeam").WithSummary("One team with its members");
        teams.MapDelete("/{team}", DeleteTeam).WithName("DeleteTeam").WithSummary("Delete a team (its roles go with it)");
        teams.MapPut("/{team}/members/{user}", AddTeamMember).WithName("AddTeamMember").WithSummary("Add a user to a team");
        teams.MapDelete("/{team}/members/{user}", RemoveTeamMember).WithName("RemoveTeamMember").WithSummary("Remove a user from a team");
        return api;
    }

    private static async Task<Ok<Page<UserDetails>>> ListUsers(UserService users, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await users.ListAsync(new Paging(limit, cursor), cancellationToken));

    private static async Task<Created<CreatedUser>> CreateUser(UserService users, CreateUserRequest request, CancellationToken cancellationToken)
    {
        var created = await users.CreateAsync(request, cancellationToken);
        return TypedResults.Created($"/api/v1/users/{created.User.Name}", created);
    }

    private static async Task<Ok<UserDetails>> GetUser(UserService users, string user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await users.GetAsync(user, cancellationToken));

    private static async Task<Ok<UserDetails>> UpdateUser(UserService users, string user, UpdateUserRequest request, CancellationToken cancellationToken) =>
        TypedResults.Ok(await users.UpdateAsync(user, request, cancellationToken));

    private static async Task<Ok<CreatedUser>> ResetPassword(UserService users, string user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await users.ResetPasswordAsync(user, cancellationToken));

    private static async Task<Ok<Page<TeamInfo>>> ListTeams(TeamService teams, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await teams.ListAsync(new Paging(limit, cursor), cancellationToken));

    private static async Task<Created<TeamInfo>> CreateTeam(TeamService teams, CreateTeamRequest request, CancellationToken cancellationToken)
    {
        var created = await teams.CreateAsync(request, cancellationToken);
        return TypedResults.Created($"/api/v1/teams/{created.Name}", created);
    }

    private static async Task<Ok<TeamInfo>> GetTeam(TeamService teams, string team, CancellationToken cancellationToken) =>
        TypedResults.Ok(await teams.GetAsync(team, cancellationToken));

    private static async Task<NoContent> DeleteTeam(TeamService teams, string team, CancellationToken cancellationToken)
    {
        await teams.DeleteAsync(team, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<TeamInfo>> AddTeamMember(TeamService teams, string team, string user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await teams.AddMemberAsync(team, user, cancellationToken));

    private static async Task<Ok<TeamInfo>> RemoveTeamMember(TeamService teams, string team, string user, CancellationToken cancellationToken) =>
        TypedResults.Ok(await teams.RemoveMemberAsync(team, user, cancellationToken));
}
