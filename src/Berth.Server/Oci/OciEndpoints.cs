using System.Globalization;
using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Blobs;
using Berth.Core.Configuration;
using Berth.Core.Diagnostics;
using Berth.Core.Errors;
using Berth.Core.Oci;
using Berth.Core.Uploads;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Http;
using Berth.Server.Api.RateLimiting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Oci;

/// <summary>
/// The OCI distribution API (spec v1.1) at <c>/v2/</c> (docs/oci.md). One dispatcher parses the path from the right (a
/// repository name has slashes), authorises the action (pull, push, delete) for the repository, and answers every
/// refusal with the spec's error envelope. Blob uploads go through <see cref="UploadService"/>, into the one
/// content-addressed store; manifests, tags and referrers through <see cref="OciRegistry"/>.
/// </summary>
internal static partial class OciEndpoints
{
    private const string OctetStream = "application/octet-stream";
    private const string UploadUuidHeader = "Docker-Upload-UUID";

    public static IEndpointRouteBuilder MapOci(this IEndpointRouteBuilder app)
    {
        string[] methods = [HttpMethods.Get, HttpMethods.Head, HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete];
        app.MapMethods("/v2", methods, context => DispatchAsync(context, "")).ExcludeFromDescription().TransfersBytes().WithName("OciBase");
        app.MapMethods("/v2/{**rest}", methods, context => DispatchAsync(context, context.Request.RouteValues["rest"] as string ?? ""))
            .ExcludeFromDescription().TransfersBytes().WithName("OciApi");
        return app;
    }

    private static async Task DispatchAsync(HttpContext context, string rest)
    {
        context.Response.Headers[OciResponses.ApiVersionHeader] = "registry/2.0";
        if (context.Features.Get<IStatusCodePagesFeature>() is { } pages)
        {
            pages.Enabled = false;
        }

        try
        {
            var route = OciRoute.Parse(rest)
                ?? throw new OciException(OciError.NameUnknown, $"There is no OCI endpoint at /v2/{Contracts.Naming.Names.Show(rest)}.", 404);
            await HandleAsync(context, route);
        }
        catch (OciException e)
        {
            var scope = e.Headers.Remove(ScopeKey, out var named) ? named : null;
            await OciResponses.WriteErrorAsync(context, e.Error, e.Message, e.Status, e.Headers,
                e.Error == OciError.Unauthorized ? Challenge(context, scope) : null);
        }
        catch (RegistryException e)
        {
            var (error, status) = Map(e);
            await OciResponses.WriteErrorAsync(context, error, e.Message, status, e.Headers,
                error == OciError.Unauthorized ? Challenge(context, null) : null);
        }
    }

    private static Task HandleAsync(HttpContext context, OciRoute route)
    {
        var method = context.Request.Method;
        return route.Kind switch
        {
            OciRouteKind.Base => BaseAsync(context),
            OciRouteKind.Token when HttpMethods.IsGet(method) => OciTokenEndpoint.IssueAsync(context),
            OciRouteKind.Manifest when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => GetManifestAsync(context, route),
            OciRouteKind.Manifest when HttpMethods.IsPut(method) => PutManifestAsync(context, route),
            OciRouteKind.Manifest when HttpMethods.IsDelete(method) => DeleteManifestAsync(context, route),
            OciRouteKind.Blob when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => GetBlobAsync(context, route),
            OciRouteKind.Blob when HttpMethods.IsDelete(method) => DeleteBlobAsync(context, route),
            OciRouteKind.UploadStart when HttpMethods.IsPost(method) => StartUploadAsync(context, route),
            OciRouteKind.Upload when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => UploadStatusAsync(context, route),
            OciRouteKind.Upload when HttpMethods.IsPatch(method) => AppendAsync(context, route),
            OciRouteKind.Upload when HttpMethods.IsPut(method) => FinishAsync(context, route),
            OciRouteKind.Upload when HttpMethods.IsDelete(method) => CancelAsync(context, route),
            OciRouteKind.Tags when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => TagsAsync(context, route),
            OciRouteKind.Referrers when HttpMethods.IsGet(method) || HttpMethods.IsHead(method) => ReferrersAsync(context, route),
            _ => throw new OciException(OciError.Unsupported, $"{Contracts.Naming.Names.Show(method)} is not supported on {context.Request.Path}."),
        };
    }

    /// <summary>GET /v2/: 200 for a caller who may use the registry (anonymous only with anonymous reads), else the challenge.</summary>
    private static async Task BaseAsync(HttpContext context)
    {
        await AuthorizeAsync(context, null, OciGrants.Pull);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.WriteAsync("{}", context.RequestAborted);
        }
    }

    private static async Task GetManifestAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Pull);
        var registry = context.RequestServices.GetRequiredService<OciRegistry>();
        var manifest = await registry.GetManifestAsync(repository, route.Argument, context.RequestAborted);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = manifest.MediaType;
        response.ContentLength = manifest.Content.Length;
        response.Headers[OciResponses.DigestHeader] = manifest.Digest;
        response.Headers.ETag = $"\"{manifest.Digest}\"";
        // By digest a manifest never changes; by tag it moves with promotions.
        response.Headers.CacheControl = route.Argument.Contains(':', StringComparison.Ordinal) ? "private, max-age=31536000, immutable" : "no-cache";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(manifest.Content, context.RequestAborted);
        }
    }

    private static async Task PutManifestAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        var actor = await AuthorizeAsync(context, repository, OciGrants.Push);
        var max = context.RequestServices.GetRequiredService<IOptions<OciOptions>>().Value.MaxManifestSize;
        if (context.Request.ContentLength > max)
        {
            throw new OciException(OciError.SizeInvalid, $"A manifest may have at most {max} bytes; this one has {context.Request.ContentLength}. Nothing was stored.", StatusCodes.Status413PayloadTooLarge);
        }

        var content = await ReadBoundedAsync(context, max);
        var registry = context.RequestServices.GetRequiredService<OciRegistry>();
        var pushed = await registry.PushManifestAsync(actor, repository, route.Argument, context.Request.ContentType, content, context.RequestAborted);
        var response = context.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.Headers.Location = $"/v2/{repository}/manifests/{pushed.Digest}";
        response.Headers[OciResponses.DigestHeader] = pushed.Digest;
        if (pushed.Subject is { } subject)
        {
            response.Headers["OCI-Subject"] = subject;
        }
    }

    private static async Task DeleteManifestAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        var actor = await AuthorizeAsync(context, repository, OciGrants.Delete);
        await context.RequestServices.GetRequiredService<OciRegistry>().DeleteManifestAsync(actor, repository, route.Argument, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private static async Task GetBlobAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Pull);
        var services = context.RequestServices;
        var blob = await services.GetRequiredService<OciRegistry>().GetBlobAsync(repository, route.Argument, context.RequestAborted);
        var response = context.Response;
        var digest = blob.Digest.ToString();
        response.Headers[OciResponses.DigestHeader] = digest;
        response.Headers.CacheControl = "private, max-age=31536000, immutable";
        var store = services.GetRequiredService<IBlobStore>();
        if (HttpMethods.IsHead(context.Request.Method))
        {
            response.StatusCode = StatusCodes.Status200OK;
            response.ContentType = OctetStream;
            response.ContentLength = blob.Size;
            response.Headers.ETag = $"\"{digest}\"";
            response.Headers.AcceptRanges = "bytes";
            return;
        }

        if (await store.GetDownloadUriAsync(blob.Digest, TimeSpan.FromMinutes(5), context.RequestAborted) is { } direct)
        {
            // The client repeats the GET (with its Range) at the object store.
            response.StatusCode = StatusCodes.Status307TemporaryRedirect;
            response.Headers.Location = direct.ToString();
            response.Headers.CacheControl = "no-store";
            return;
        }

        var stream = await store.OpenReadAsync(blob.Digest, 0, context.RequestAborted);
        var meter = services.GetRequiredService<BerthMeter>();
        await Results.Stream(new CountingReadStream(stream, meter), OctetStream, entityTag: new EntityTagHeaderValue($"\"{digest}\""), enableRangeProcessing: true)
            .ExecuteAsync(context);
    }

    private static async Task DeleteBlobAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Delete);
        await context.RequestServices.GetRequiredService<OciRegistry>().DeleteBlobAsync(repository, route.Argument, context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status202Accepted;
    }

    private static async Task TagsAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Pull);
        var tags = await context.RequestServices.GetRequiredService<OciRegistry>().ListTagsAsync(repository, context.RequestAborted);
        var query = context.Request.Query;
        IEnumerable<string> page = tags;
        if (query["last"].ToString() is { Length: > 0 } last)
        {
            page = page.Where(t => string.CompareOrdinal(t, last) > 0);
        }

        string? next = null;
        if (query["n"].Count > 0)
        {
            if (!int.TryParse(query["n"].ToString(), NumberStyles.None, CultureInfo.InvariantCulture, out var n))
            {
                throw new OciException(OciError.Unsupported, "n must be a non-negative integer.", 400);
            }

            var list = page.ToList();
            page = list.Take(n);
            if (n > 0 && list.Count > n)
            {
                next = $"</v2/{repository}/tags/list?n={n}&last={Uri.EscapeDataString(list[n - 1])}>; rel=\"next\"";
            }
        }

        if (next is not null)
        {
            context.Response.Headers.Link = next;
        }

        context.Response.Headers.CacheControl = "no-cache";
        await context.Response.WriteAsJsonAsync(new OciResponses.TagList(repository.ToString(), [.. page]), OciJsonContext.Default.TagList, "application/json", context.RequestAborted);
    }

    private static async Task ReferrersAsync(HttpContext context, OciRoute route)
    {
        var repository = Repository(route);
        await AuthorizeAsync(context, repository, OciGrants.Pull);
        var artifactType = context.Request.Query["artifactType"].ToString() is { Length: > 0 } t ? t : null;
        var referrers = await context.RequestServices.GetRequiredService<OciRegistry>().ListReferrersAsync(repository, route.Argument, artifactType, context.RequestAborted);
        if (artifactType is not null)
        {
            context.Response.Headers["OCI-Filters-Applied"] = "artifactType";
        }

        var body = ReferrersIndex.Write(referrers);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = OciMediaTypes.ImageIndex;
        context.Response.ContentLength = body.Length;
        context.Response.Headers.CacheControl = "no-cache";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    private static OciRepositoryName Repository(OciRoute route) =>
        OciNames.TryParseRepository(route.Name, out var repository, out var error)
            ? repository
            : OciNames.IsValidName(route.Name)
                ? throw new OciException(OciError.NameUnknown, error!)
                : throw new OciException(OciError.NameInvalid, error!);

    /// <summary>Reads a manifest body, at most <paramref name="max"/> bytes (413 SIZE_INVALID past that).</summary>
    private static async Task<byte[]> ReadBoundedAsync(HttpContext context, int max)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        while (true)
        {
            var read = await context.Request.Body.ReadAsync(chunk, context.RequestAborted);
            if (read == 0)
            {
                return buffer.ToArray();
            }

            if (buffer.Length + read > max)
            {
                throw new OciException(OciError.SizeInvalid, $"A manifest may have at most {max} bytes. Nothing was stored.", StatusCodes.Status413PayloadTooLarge);
            }

            buffer.Write(chunk, 0, read);
        }
    }
}
