using System.Security.Cryptography;
using Berth.Core.Idempotency;
using Berth.Server.Api.Auth;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Berth.Server.Api.Idempotency;

/// <summary>
/// Makes creating calls safe to retry: for an endpoint marked <see cref="IdempotentCreate"/> and a
/// request with <c>Idempotency-Key</c>, the first response (unless a 5xx) is stored and replayed for
/// the same key and the same request (method, path, query and body), with <c>Idempotent-Replayed: true</c>.
/// </summary>
internal sealed class IdempotencyMiddleware(RequestDelegate next)
{
    public const string KeyHeader = "Idempotency-Key";
    public const string ReplayedHeader = "Idempotent-Replayed";

    public async Task InvokeAsync(HttpContext context, IdempotencyStore store)
    {
        var key = context.Request.Headers[KeyHeader].ToString();
        if (key.Length == 0 || context.GetEndpoint()?.Metadata.GetMetadata<IdempotentCreate>() is null || context.GetActor() is { IsAnonymous: true })
        {
            await next(context);
            return;
        }

        var actor = context.GetActor();
        var hash = await HashRequestAsync(context.Request, context.RequestAborted);
        var stored = await store.BeginAsync(actor.UserId, key, hash, context.RequestAborted);
        if (stored is not null)
        {
            context.Response.StatusCode = stored.StatusCode!.Value;
            context.Response.Headers[ReplayedHeader] = "true";
            if (stored.ContentType is not null) context.Response.ContentType = stored.ContentType;
            if (stored.Location is not null) context.Response.Headers.Location = stored.Location;
            if (stored.ETag is not null) context.Response.Headers.ETag = stored.ETag;
            if (store.Body(stored) is { Length: > 0 } body) await context.Response.Body.WriteAsync(body, context.RequestAborted);
            return;
        }

        var original = context.Response.Body;
        using var captured = new MemoryStream();
        context.Response.Body = captured;
        var completed = false;
        try
        {
            await next(context);
            if (context.Response.StatusCode < 500)
            {
                var headers = context.Response.Headers;
                await store.CompleteAsync(actor.UserId, key, context.Response.StatusCode, context.Response.ContentType,
                    headers.Location.ToString() is { Length: > 0 } l ? l : null,
                    headers.ETag.ToString() is { Length: > 0 } e ? e : null,
                    captured.ToArray(), CancellationToken.None);
                completed = true;
            }
        }
        finally
        {
            context.Response.Body = original;
            if (!completed)
            {
                await store.AbandonAsync(actor.UserId, key, CancellationToken.None);
            }
        }

        captured.Position = 0;
        await captured.CopyToAsync(original, context.RequestAborted);
    }

    private static async Task<string> HashRequestAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        request.EnableBuffering();
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{request.Method} {request.Path}{request.QueryString}\n{request.Headers[HeaderNames.ContentType]}\n"));
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            hash.AppendData(buffer, 0, read);
        }

        request.Body.Position = 0;
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
