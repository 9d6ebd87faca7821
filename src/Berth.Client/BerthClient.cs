using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Naming;

namespace Berth.Client;

/// <summary>
/// The Berth SDK: one method per API operation, plus PushAsync and PullAsync
/// for whole versions. Every failure answer of the server becomes a <see cref="BerthProblemException"/>.
/// Thread-safe; reuse one instance.
/// </summary>
public sealed partial class BerthClient : IDisposable
{
    public const string ApiPrefix = "api/v1/";

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly TimeSpan _requestTimeout;
    private HttpClient? _directHttp;

    /// <summary>Lenient on input (ignores fields a newer server adds), same wire format as the server.</summary>
    internal static readonly BerthJsonContext Json = new(new JsonSerializerOptions(BerthJsonContext.Default.Options)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
    });

    public BerthClient(BerthClientOptions options, HttpMessageHandler? handler = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var baseUri = options.BaseUri.AbsoluteUri.EndsWith('/') ? options.BaseUri : new Uri(options.BaseUri.AbsoluteUri + "/");
        _http = new HttpClient(handler ?? CreateHandler(), disposeHandler: true)
        {
            BaseAddress = baseUri,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        _http.DefaultRequestHeaders.UserAgent.ParseAdd(options.UserAgent);
        if (options.Token is { Length: > 0 } token)
        {
            _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        _ownsHttp = true;
        _requestTimeout = options.RequestTimeout;
        BaseUri = baseUri;
    }

    public Uri BaseUri { get; }

    /// <summary>For presigned object-store URLs: no Berth token (it must never leave for another host), no base address.</summary>
    private HttpClient DirectHttp => LazyInitializer.EnsureInitialized(ref _directHttp, () => new HttpClient(CreateHandler(), disposeHandler: true) { Timeout = Timeout.InfiniteTimeSpan });

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }

        _directHttp?.Dispose();
    }

    private static SocketsHttpHandler CreateHandler() => new()
    {
        AutomaticDecompression = DecompressionMethods.None,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        MaxConnectionsPerServer = 64,
        ConnectTimeout = TimeSpan.FromSeconds(15),
    };

    internal static string Segment(string value) => Uri.EscapeDataString(value);

    internal static string ModelPath(string ns, string model) => $"{ApiPrefix}models/{Segment(ns)}/{Segment(model)}";

    internal static string VersionPath(ModelReference reference) =>
        $"{ModelPath(RequireNamespace(reference), reference.Model)}/versions/{Segment(reference.Selector.Text)}";

    internal static string FilePath(string path) => string.Join('/', path.Split('/').Select(Segment));

    internal static string RequireNamespace(ModelReference reference) =>
        reference.Namespace ?? throw new ArgumentException($"The reference '{reference}' has no namespace.", nameof(reference));

    internal async Task<T> SendAsync<T>(HttpMethod method, string path, object? body, JsonTypeInfo<T> responseType, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
    {
        using var response = await SendRawAsync(method, path, body, cancellationToken, configure).ConfigureAwait(false);
        return await ReadAsync(response, responseType, cancellationToken).ConfigureAwait(false);
    }

    internal async Task SendNoContentAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
    {
        using var response = await SendRawAsync(method, path, body, cancellationToken, configure).ConfigureAwait(false);
    }

    /// <summary>Sends a metadata call with the request timeout; throws <see cref="BerthProblemException"/> for error answers.</summary>
    internal async Task<HttpResponseMessage> SendRawAsync(HttpMethod method, string path, object? body, CancellationToken cancellationToken, Action<HttpRequestMessage>? configure = null)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_requestTimeout);
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body, Json.GetTypeInfo(body.GetType()) ?? throw new InvalidOperationException($"{body.GetType()} is not a wire type."));
        }

        configure?.Invoke(request);
        HttpResponseMessage response;
        try
        {
            response = await _http.SendAsync(request, HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"{method} {path} did not answer within {_requestTimeout.TotalSeconds:0} s.");
        }

        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return response;
    }

    /// <summary>Sends a transfer request (no timeout, headers-first) and checks the status.</summary>
    internal async Task<HttpResponseMessage> SendStreamingAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await EnsureSuccessAsync(response, cancellationToken).ConfigureAwait(false);
        return response;
    }

    internal static async Task<T> ReadAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, CancellationToken cancellationToken) =>
        await response.Content.ReadFromJsonAsync(type, cancellationToken).ConfigureAwait(false)
        ?? throw new InvalidDataException("The server answered with an empty body.");

    internal static async Task EnsureSuccessAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotModified)
        {
            return;
        }

        try
        {
            throw await ToProblemAsync(response, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            response.Dispose();
        }
    }

    private static async Task<BerthProblemException> ToProblemAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        var text = response.Content is null ? "" : await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        var fallbackCode = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => "unauthorized",
            HttpStatusCode.Forbidden => "forbidden",
            HttpStatusCode.NotFound => "not_found",
            _ => "http_" + ((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture),
        };
        try
        {
            using var document = JsonDocument.Parse(text);
            if (document.RootElement.ValueKind == JsonValueKind.Object)
            {
                var root = document.RootElement;
                var extensions = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
                foreach (var property in root.EnumerateObject())
                {
                    if (property.Name is not ("type" or "title" or "status" or "detail" or "instance" or "code" or "requestId"))
                    {
                        extensions[property.Name] = property.Value.Clone();
                    }
                }

                return new BerthProblemException(response.StatusCode, String(root, "code") ?? fallbackCode, String(root, "title"), String(root, "detail"), String(root, "requestId"), extensions);
            }
        }
        catch (JsonException)
        {
            // Not a problem document (a proxy's error page, say): keep the text as the message.
        }

        var detail = text.Length > 500 ? text[..500] : text;
        return new BerthProblemException(response.StatusCode, fallbackCode, response.ReasonPhrase, detail.Length == 0 ? null : detail, null, new Dictionary<string, JsonElement>());
    }

    private static string? String(JsonElement root, string name) =>
        root.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    /// <summary>Walks every page of a list endpoint.</summary>
    internal async IAsyncEnumerable<T> PagesAsync<T>(string path, JsonTypeInfo<Page<T>> type, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        string? cursor = null;
        do
        {
            var separator = path.Contains('?', StringComparison.Ordinal) ? '&' : '?';
            var url = cursor is null ? path : $"{path}{separator}cursor={Segment(cursor)}";
            var page = await SendAsync(HttpMethod.Get, url, null, type, cancellationToken).ConfigureAwait(false);
            foreach (var item in page.Items)
            {
                yield return item;
            }

            cursor = page.NextCursor;
        }
        while (cursor is not null);
    }

    internal static Action<HttpRequestMessage>? IfMatch(string? etag) =>
        etag is null ? null : request => request.Headers.TryAddWithoutValidation("If-Match", etag);
}
