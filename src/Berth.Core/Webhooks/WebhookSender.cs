using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Webhooks;
using Berth.Core.Configuration;
using Berth.Core.Data.Entities;
using Microsoft.Extensions.Options;

namespace Berth.Core.Webhooks;

/// <summary>
/// The outcome of one attempt: the receiver's status (2xx is success), or why there was none: <paramref name="Error"/>
/// is one of <see cref="DeliveryErrors"/>, <paramref name="Detail"/> the message (server administrators only).
/// </summary>
public sealed record AttemptResult(DateTime StartedAt, double DurationMs, int? Status, string? Error, string? Response, string? Detail = null)
{
    public bool Succeeded => Status is >= 200 and < 300;

    public WebhookAttempt ToEntity(long deliveryId, int number) => new()
    {
        DeliveryId = deliveryId,
        Number = number,
        StartedAt = StartedAt,
        DurationMs = DurationMs,
        Status = Status,
        Error = Error,
        Detail = Detail,
        Response = Response,
    };
}

/// <summary>
/// Makes webhook calls: a signed JSON POST with a timeout, no proxy, no redirects followed (a 3xx is a failed attempt),
/// and a connection only to addresses <see cref="AddressPolicy"/> allows: the host is resolved once per connection,
/// every address checked, and the socket connects to exactly those (a DNS answer that changes between the check and
/// the connection cannot smuggle a forbidden address in).
/// </summary>
public sealed class WebhookSender : IDisposable
{
    public const int ResponseExcerptLength = 1024;
    private const int MaxDetailLength = 1000;
    private readonly HttpClient _client;
    private readonly AddressPolicy _policy;
    private readonly WebhookSecrets _secrets;
    private readonly WebhookOptions _options;
    private readonly TimeProvider _clock;

    public WebhookSender(AddressPolicy policy, WebhookSecrets secrets, IOptions<WebhookOptions> options, TimeProvider clock)
    {
        _policy = policy;
        _secrets = secrets;
        _options = options.Value;
        _clock = clock;
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = false,
            UseProxy = false,
            UseCookies = false,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            MaxConnectionsPerServer = 64,
            ConnectCallback = ConnectAsync,
        };
        _client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        _client.DefaultRequestHeaders.UserAgent.Add(new ProductInfoHeaderValue("Berth-Webhooks", "1"));
    }

    public static byte[] Body(EventInfo info) => JsonSerializer.SerializeToUtf8Bytes(info, BerthJsonContext.Default.EventInfo);

    public async Task<AttemptResult> SendAsync(Webhook hook, long deliveryId, EventInfo info, CancellationToken cancellationToken)
    {
        var body = Body(info);
        var started = _clock.GetUtcNow();
        var watch = Stopwatch.StartNew();
        string secret;
        try
        {
            secret = _secrets.Reveal(hook);
        }
        catch (CryptographicException e)
        {
            return new AttemptResult(started.UtcDateTime, 0, null, DeliveryErrors.SecretUnavailable, null, Truncate($"the signing secret cannot be decrypted: {e.Message}"));
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.Timeout);
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, hook.Url) { Content = new ByteArrayContent(body) };
            request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json") { CharSet = "utf-8" };
            request.Headers.Add("Berth-Event", info.Type);
            request.Headers.Add("Berth-Event-Id", info.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add("Berth-Delivery", deliveryId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            request.Headers.Add(WebhookSignature.Header, WebhookSignature.Create(secret, started, body));
            using var response = await _client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var excerpt = await ExcerptAsync(response, timeout.Token);
            return new AttemptResult(started.UtcDateTime, watch.Elapsed.TotalMilliseconds, (int)response.StatusCode, null, excerpt);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return new AttemptResult(started.UtcDateTime, watch.Elapsed.TotalMilliseconds, null, DeliveryErrors.Timeout, null, $"timed out after {_options.Timeout.TotalSeconds:0.###} s");
        }
        catch (HttpRequestException e)
        {
            return new AttemptResult(started.UtcDateTime, watch.Elapsed.TotalMilliseconds, null, Categorize(e), null, Truncate(Describe(e)));
        }
    }

    public void Dispose() => _client.Dispose();

    private static async Task<string?> ExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var buffer = new byte[ResponseExcerptLength];
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
        var read = 0;
        while (read < buffer.Length && await stream.ReadAsync(buffer.AsMemory(read), cancellationToken) is > 0 and var n)
        {
            read += n;
        }

        if (read == 0)
        {
            return null;
        }

        // Cut at a character boundary; the excerpt is for people reading delivery logs.
        var text = Encoding.UTF8.GetString(buffer, 0, read);
        return text.Length > 0 && char.IsHighSurrogate(text[^1]) ? text[..^1] : text;
    }

    /// <summary>The category a namespace admin sees: what went wrong, never the socket's words (no port scanner).</summary>
    internal static string Categorize(HttpRequestException e)
    {
        for (Exception? inner = e; inner is not null; inner = inner.InnerException)
        {
            switch (inner)
            {
                case WebhookAddressException refused:
                    return refused.Category;
                case AuthenticationException:
                    return DeliveryErrors.TlsFailure;
                case SocketException socket:
                    return socket.SocketErrorCode switch
                    {
                        SocketError.ConnectionRefused => DeliveryErrors.ConnectionRefused,
                        SocketError.TimedOut => DeliveryErrors.Timeout,
                        SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => DeliveryErrors.DnsFailure,
                        _ => DeliveryErrors.ConnectionFailed,
                    };
            }
        }

        return e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => DeliveryErrors.DnsFailure,
            HttpRequestError.ConnectionError => DeliveryErrors.ConnectionFailed,
            HttpRequestError.SecureConnectionError => DeliveryErrors.TlsFailure,
            _ => DeliveryErrors.HttpError,
        };
    }

    private static string Describe(HttpRequestException e)
    {
        var message = e.InnerException is { } inner and not HttpRequestException ? $"{e.Message} ({inner.Message})" : e.Message;
        return message;
    }

    private static string Truncate(string message) => message.Length > MaxDetailLength ? message[..MaxDetailLength] : message;

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = WebhookHost.Parse(context.DnsEndPoint.Host)
            ?? throw new WebhookAddressException(DeliveryErrors.AddressRefused, $"'{context.DnsEndPoint.Host}' is not a valid host", $"'{context.DnsEndPoint.Host}' is not a valid host");
        var addresses = await _policy.ResolveAsync(host, cancellationToken);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            // Exactly the addresses that were checked: no second lookup.
            await socket.ConnectAsync([.. addresses], context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
