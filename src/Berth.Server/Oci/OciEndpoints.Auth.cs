using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Configuration;
using Berth.Core.Errors;
using Berth.Core.Oci;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Server.Oci;

internal static partial class OciEndpoints
{
    /// <summary>The key under which an UNAUTHORIZED refusal carries the scope its challenge names (not sent as a header).</summary>
    private const string ScopeKey = "x-berth-oci-scope";

    /// <summary>
    /// Authorises <paramref name="action"/> (pull, push, delete) on <paramref name="repository"/> (null: the base
    /// endpoint) and returns the caller. A <c>/v2/token</c> token decides by its grants alone (no database lookup);
    /// other credentials by the caller's role through <see cref="AccessControl"/>: pulls need the reader role, pushes and
    /// deletions the writer role. Refusals: UNAUTHORIZED with a challenge (no or bad credentials, or a token without
    /// this repository), DENIED (not allowed).
    /// </summary>
    private static async Task<Actor> AuthorizeAsync(HttpContext context, OciRepositoryName? repository, string action)
    {
        if (OciAuthenticationHandler.Failure(context) is { } failure)
        {
            throw Unauthorized(failure, repository, action);
        }

        var actor = context.AuthenticatedActor() ?? Actor.Anonymous;
        var options = context.RequestServices.GetRequiredService<IOptions<RegistryOptions>>().Value;
        if (repository is not { } repo)
        {
            return actor.IsAnonymous && !options.AnonymousRead && OciAuthenticationHandler.Grants(context) is null
                ? throw Unauthorized("This registry needs credentials: log in with your user name and an API token as the password.", null, action)
                : actor;
        }

        var name = repo.ToString();
        if (OciAuthenticationHandler.Grants(context) is { } grants)
        {
            if (grants.Allows(name, action))
            {
                return actor;
            }

            throw grants.Covers(name)
                ? new OciException(OciError.Denied, $"The token does not allow {action} on {name}: {(actor.IsAnonymous ? "log in" : $"user '{actor.Name}' lacks the role")}.")
                : Unauthorized($"The token does not cover {name}; get one for it from /v2/token.", repo, action);
        }

        if (actor.IsAnonymous && !(options.AnonymousRead && action == OciGrants.Pull))
        {
            throw Unauthorized(action == OciGrants.Pull
                ? "Pulling needs credentials: log in with your user name and an API token as the password."
                : $"{(action == OciGrants.Push ? "Pushing" : "Deleting")} needs credentials: log in with your user name and an API token as the password.", repo, action);
        }

        var access = context.RequestServices.GetRequiredService<AccessControl>();
        var permission = action == OciGrants.Pull ? Permission.Read : Permission.Write;
        try
        {
            await access.DemandAsync(actor, permission, repo.Namespace, createsNamespace: action == OciGrants.Push, context.RequestAborted);
        }
        catch (RegistryException e) when (e.Error == ErrorCodes.NamespaceNotFound && action == OciGrants.Pull)
        {
            throw new OciException(OciError.NameUnknown, $"Repository {name} does not exist, or you have no role in its namespace.");
        }
        catch (RegistryException e) when (e.Error.Status is 403 or 404)
        {
            throw new OciException(OciError.Denied, e.Message);
        }

        return actor;
    }

    private static OciException Unauthorized(string detail, OciRepositoryName? repository, string action)
    {
        var error = new OciException(OciError.Unauthorized, detail);
        if (repository is { } repo)
        {
            var actions = action == OciGrants.Pull ? "pull" : $"pull,{action}";
            error.Headers[ScopeKey] = $"repository:{repo}:{actions}";
        }

        return error;
    }

    /// <summary>
    /// <c>Bearer realm="&lt;this server&gt;/v2/token",service="&lt;host&gt;"[,scope="…"]</c>: where a registry client gets a token.
    /// </summary>
    private static string Challenge(HttpContext context, string? scope)
    {
        var request = context.Request;
        var challenge = $"Bearer realm=\"{request.Scheme}://{request.Host}/v2/token\",service=\"{request.Host}\"";
        return scope is null ? challenge : challenge + $",scope=\"{scope}\"";
    }

    /// <summary>Berth's own errors in the spec's terms.</summary>
    private static (OciError Error, int? Status) Map(RegistryException e)
    {
        var code = e.Error;
        if (code == ErrorCodes.UploadNotFound)
        {
            return (OciError.BlobUploadUnknown, null);
        }

        if (code == ErrorCodes.DigestMismatch || code == ErrorCodes.InvalidDigest)
        {
            return (OciError.DigestInvalid, null);
        }

        if (code == ErrorCodes.SizeMismatch)
        {
            return (OciError.SizeInvalid, null);
        }

        if (code == ErrorCodes.BodyTooLarge)
        {
            return (OciError.SizeInvalid, StatusCodes.Status413PayloadTooLarge);
        }

        if (code == ErrorCodes.InvalidRange || code == ErrorCodes.UploadModeConflict)
        {
            return (OciError.BlobUploadInvalid, null);
        }

        if (code == ErrorCodes.UploadBusy)
        {
            return (OciError.TooManyRequests, StatusCodes.Status429TooManyRequests);
        }

        if (code == ErrorCodes.NamespaceNotFound || code == ErrorCodes.ModelNotFound)
        {
            return (OciError.NameUnknown, null);
        }

        if (code == ErrorCodes.InvalidName)
        {
            return (OciError.NameInvalid, null);
        }

        if (code == ErrorCodes.VersionNotFound || code == ErrorCodes.AliasNotFound || code == ErrorCodes.VersionDeleted)
        {
            return (OciError.ManifestUnknown, null);
        }

        if (code == ErrorCodes.BlobsMissing)
        {
            return (OciError.ManifestBlobUnknown, null);
        }

        if (code == ErrorCodes.RateLimited || code == ErrorCodes.TooManyAttempts)
        {
            return (OciError.TooManyRequests, null);
        }

        if (code == ErrorCodes.Unavailable || code == ErrorCodes.StorageFailed || code == ErrorCodes.InsufficientStorage)
        {
            return (OciError.Unavailable, code.Status);
        }

        return code.Status switch
        {
            401 => (OciError.Unauthorized, null),
            403 or 409 or 410 or 412 => (OciError.Denied, StatusCodes.Status403Forbidden),
            404 => (OciError.NameUnknown, null),
            _ => (OciError.ManifestInvalid, code.Status is >= 400 and < 500 ? code.Status : StatusCodes.Status400BadRequest),
        };
    }
}
