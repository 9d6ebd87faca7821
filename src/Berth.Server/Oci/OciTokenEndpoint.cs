using System.Globalization;
using Berth.Core.Auth;
using Berth.Core.Configuration;
using Berth.Core.Errors;
using Berth.Core.Oci;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Server.Oci;

/// <summary>
/// <c>GET /v2/token?service=…&amp;scope=repository:&lt;name&gt;:&lt;actions&gt;</c>, the token endpoint of the registry
/// token flow: with HTTP Basic (user and API token) or no credentials, it answers a short-lived token granting the
/// asked-for actions the caller may do (pull: reader; push and delete: writer), and silently not the others, as
/// registries do. Wrong credentials are UNAUTHORIZED.
/// </summary>
internal static class OciTokenEndpoint
{
    public static async Task IssueAsync(HttpContext context)
    {
        if (OciAuthenticationHandler.Failure(context) is { } failure)
        {
            throw new OciException(OciError.Unauthorized, failure);
        }

        var actor = context.AuthenticatedActor() ?? Actor.Anonymous;
        var services = context.RequestServices;
        var access = services.GetRequiredService<AccessControl>();
        var anonymousRead = services.GetRequiredService<IOptions<RegistryOptions>>().Value.AnonymousRead;
        var granted = new Dictionary<string, IReadOnlySet<string>>(StringComparer.Ordinal);
        foreach (var scope in OciScope.ParseAll(context.Request.Query["scope"]))
        {
            var actions = new HashSet<string>(StringComparer.Ordinal);
            if (OciNames.TryParseRepository(scope.Repository, out var repository, out _))
            {
                foreach (var action in scope.Actions)
                {
                    if (await AllowedAsync(access, actor, anonymousRead, repository, action, context.RequestAborted))
                    {
                        actions.Add(action);
                    }
                }
            }

            if (granted.TryGetValue(scope.Repository, out var earlier))
            {
                actions.UnionWith(earlier);
            }

            granted[scope.Repository] = actions;
        }

        var options = services.GetRequiredService<IOptions<OciOptions>>().Value;
        var token = services.GetRequiredService<OciTokens>().Issue(actor, new OciGrants(granted), options.TokenLifetime);
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        context.Response.Headers.CacheControl = "no-store";
        await context.Response.WriteAsJsonAsync(
            new OciResponses.TokenResponse(token, token, (int)options.TokenLifetime.TotalSeconds, now.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture)),
            OciJsonContext.Default.TokenResponse, "application/json", context.RequestAborted);
    }

    private static async Task<bool> AllowedAsync(AccessControl access, Actor actor, bool anonymousRead, OciRepositoryName repository, string action, CancellationToken cancellationToken)
    {
        if (actor.IsAnonymous)
        {
            return action == OciGrants.Pull && anonymousRead;
        }

        if (action != OciGrants.Pull && repository.Modelcar)
        {
            return false;
        }

        try
        {
            await access.DemandAsync(actor, action == OciGrants.Pull ? Permission.Read : Permission.Write, repository.Namespace, createsNamespace: action == OciGrants.Push, cancellationToken);
            return true;
        }
        catch (RegistryException)
        {
            return false;
        }
    }
}
