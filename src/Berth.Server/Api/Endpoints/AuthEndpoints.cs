using Berth.Contracts.Dtos;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;

namespace Berth.Server.Api.Endpoints;

/// <summary>Who am I, and my API tokens.</summary>
internal static class AuthEndpoints
{
    public static RouteGroupBuilder MapAuth(this RouteGroupBuilder api)
    {
        api.MapGet("/whoami", WhoAmI).Needs(Permission.Read).WithName("WhoAmI").WithTags("Auth")
            .WithSummary("The user and token behind this request");

        var tokens = api.MapGroup("/tokens").WithTags("Tokens");
        tokens.MapGet("/", ListTokens).Needs(Permission.Read).WithName("ListTokens").WithSummary("Your API tokens");
        tokens.MapPost("/", CreateToken).Needs(Permission.Read).Idempotent().WithName("CreateToken")
            .WithSummary("Create an API token; the secret is in the response and never shown again. It never outlives or outranks the token that creates it");
        tokens.MapDelete("/{id:long}", RevokeToken).Needs(Permission.Read).WithName("RevokeToken").WithSummary("Revoke one of your tokens, and every token created with it");

        api.MapPost("/sessions", SignIn).WithTags("Auth").WithName("SignIn").ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Sign in with a user name and password; answers with a session token (a one-time password must be replaced here); throttled per client address and account");
        api.MapPut("/whoami/password", ChangePassword).Needs(Permission.Write).WithTags("Auth").WithName("ChangePassword").ProducesProblem(StatusCodes.Status429TooManyRequests)
            .WithSummary("Change your own password (needs a write-scoped token; wrong current passwords count like failed sign-ins)");
        return api;
    }

    private static async Task<Ok<WhoAmI>> WhoAmI(HttpContext context, RegistryDbContext db, CancellationToken cancellationToken)
    {
        var actor = context.GetActor();
        if (actor.IsAnonymous)
        {
            return TypedResults.Ok(new WhoAmI(new UserInfo(0, actor.Name, null, null, false), null, true));
        }

        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == actor.UserId, cancellationToken);
        var token = actor.TokenId is { } id ? await db.ApiTokens.AsNoTracking().Include(t => t.User).SingleAsync(t => t.Id == id, cancellationToken) : null;
        return TypedResults.Ok(new WhoAmI(
            new UserInfo(user.Id, user.Name, user.Email, user.DisplayName, user.IsAdmin),
            token is null ? null : TokenService.ToInfo(token),
            false));
    }

    private static async Task<Ok<Page<TokenInfo>>> ListTokens(HttpContext context, TokenService tokens, bool? all, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        var actor = Authenticated(context);
        return TypedResults.Ok(await tokens.ListAsync(actor.UserId, all == true, new Paging(limit, cursor), cancellationToken));
    }

    private static async Task<Created<CreatedToken>> CreateToken(HttpContext context, TokenService tokens, CreateTokenRequest request, CancellationToken cancellationToken)
    {
        var actor = Authenticated(context);
        var (token, secret) = await tokens.CreateAsync(actor, request, cancellationToken);
        return TypedResults.Created($"/api/v1/tokens/{token.Id}", new CreatedToken(TokenService.ToInfo(token), secret));
    }

    private static async Task<Ok<TokenInfo>> RevokeToken(HttpContext context, TokenService tokens, long id, CancellationToken cancellationToken) =>
        TypedResults.Ok(await tokens.RevokeAsync(Authenticated(context), id, cancellationToken));

    private static async Task<Created<SignInResponse>> SignIn(UserService users, AuditContext audit, SignInRequest request, CancellationToken cancellationToken)
    {
        var response = await users.SignInAsync(request, audit, cancellationToken);
        return TypedResults.Created($"/api/v1/tokens/{response.Session.Info.Id}", response);
    }

    private static async Task<NoContent> ChangePassword(HttpContext context, UserService users, AuditContext audit, ChangePasswordRequest request, CancellationToken cancellationToken)
    {
        await users.ChangePasswordAsync(Authenticated(context), request, audit, cancellationToken);
        return TypedResults.NoContent();
    }

    private static Actor Authenticated(HttpContext context)
    {
        var actor = context.GetActor();
        if (actor.IsAnonymous)
        {
            throw new Core.Errors.RegistryException(Contracts.Errors.ErrorCodes.TokenMissing, "Managing tokens needs an API token.");
        }

        return actor;
    }
}
