using Berth.Contracts.Dtos;

namespace Berth.Client;

public sealed partial class BerthClient
{
    public Task<WhoAmI> WhoAmIAsync(CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, ApiPrefix + "whoami", null, Json.WhoAmI, cancellationToken);

    public Task<CreatedToken> CreateTokenAsync(CreateTokenRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, ApiPrefix + "tokens", request, Json.CreatedToken, cancellationToken, WithIdempotencyKey());

    public IAsyncEnumerable<TokenInfo> ListTokensAsync(bool includeRevoked = false, CancellationToken cancellationToken = default) =>
        PagesAsync(ApiPrefix + "tokens" + (includeRevoked ? "?all=true" : ""), Json.PageTokenInfo, cancellationToken);

    public Task<TokenInfo> RevokeTokenAsync(long id, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, $"{ApiPrefix}tokens/{id}", null, Json.TokenInfo, cancellationToken);

    public IAsyncEnumerable<NamespaceInfo> ListNamespacesAsync(CancellationToken cancellationToken = default) =>
        PagesAsync(ApiPrefix + "namespaces", Json.PageNamespaceInfo, cancellationToken);

    public Task<NamespaceInfo> GetNamespaceAsync(string ns, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}namespaces/{Segment(ns)}", null, Json.NamespaceInfo, cancellationToken);

    public Task<NamespaceInfo> CreateNamespaceAsync(CreateNamespaceRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, ApiPrefix + "namespaces", request, Json.NamespaceInfo, cancellationToken, WithIdempotencyKey());

    /// <summary>Deletes a namespace and every model in it (soft: garbage collection purges their versions after the purge delay).</summary>
    public Task DeleteNamespaceAsync(string ns, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, $"{ApiPrefix}namespaces/{Segment(ns)}{Query(("confirm", ns))}", null, cancellationToken);

    public IAsyncEnumerable<ModelInfo> ListModelsAsync(string ns, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ApiPrefix}models/{Segment(ns)}", Json.PageModelInfo, cancellationToken);

    public Task<Page<ModelInfo>> ListModelsPageAsync(string ns, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}models/{Segment(ns)}{Query(("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("cursor", cursor))}", null, Json.PageModelInfo, cancellationToken);

    public Task<ModelInfo> GetModelAsync(string ns, string model, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, ModelPath(ns, model), null, Json.ModelInfo, cancellationToken);

    public Task<ModelInfo> CreateModelAsync(string ns, CreateModelRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}models/{Segment(ns)}", request, Json.ModelInfo, cancellationToken, WithIdempotencyKey());

    /// <summary>Changes description and tags; pass the ETag you read as <paramref name="ifMatch"/> to fail (412) on concurrent edits.</summary>
    public Task<ModelInfo> UpdateModelAsync(string ns, string model, UpdateModelRequest request, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, ModelPath(ns, model), request, Json.ModelInfo, cancellationToken, IfMatch(ifMatch));

    /// <summary>Deletes a model (soft: garbage collection purges its versions after the purge delay).</summary>
    public Task DeleteModelAsync(string ns, string model, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, ModelPath(ns, model), null, cancellationToken);

    public IAsyncEnumerable<AliasInfo> ListAliasesAsync(string ns, string model, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ModelPath(ns, model)}/aliases", Json.PageAliasInfo, cancellationToken);

    public Task<AliasInfo> GetAliasAsync(string ns, string model, string alias, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ModelPath(ns, model)}/aliases/{Segment(alias)}", null, Json.AliasInfo, cancellationToken);

    /// <summary>Points an alias at a version; a protected alias opens a request instead (<see cref="TransitionResult.Outcome"/> requested).</summary>
    public Task<TransitionResult> SetAliasAsync(string ns, string model, string alias, string versionSelector, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"{ModelPath(ns, model)}/aliases/{Segment(alias)}", new SetAliasRequest(versionSelector), Json.TransitionResult, cancellationToken, IfMatch(ifMatch));

    public Task RemoveAliasAsync(string ns, string model, string alias, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, $"{ModelPath(ns, model)}/aliases/{Segment(alias)}", null, cancellationToken, IfMatch(ifMatch));

    /// <summary>Stage changes, alias moves, deletions and requests of a model, oldest first. <paramref name="kind"/>: stage, alias, deleted or request.</summary>
    public IAsyncEnumerable<HistoryEntry> GetHistoryAsync(string ns, string model, string? kind = null, string? stage = null, string? alias = null, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ModelPath(ns, model)}/history{Query(("kind", kind), ("stage", stage), ("alias", alias))}", Json.PageHistoryEntry, cancellationToken);

    /// <summary>Which versions held <paramref name="stage"/> (or which version <paramref name="alias"/> named) at <paramref name="at"/>.</summary>
    public Task<HoldersInfo> GetHoldersAsync(string ns, string model, DateTimeOffset at, string? stage = null, string? alias = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ModelPath(ns, model)}/history/holders{Query(("at", at.UtcDateTime.ToString("O", System.Globalization.CultureInfo.InvariantCulture)), ("stage", stage), ("alias", alias))}", null, Json.HoldersInfo, cancellationToken);

    internal static string Query(params (string Name, string? Value)[] parameters)
    {
        var present = parameters.Where(p => p.Value is not null).Select(p => $"{p.Name}={Segment(p.Value!)}").ToList();
        return present.Count == 0 ? "" : "?" + string.Join('&', present);
    }

    internal static Action<HttpRequestMessage> WithIdempotencyKey(string? key = null)
    {
        var value = key ?? Guid.NewGuid().ToString("N");
        return request => request.Headers.TryAddWithoutValidation("Idempotency-Key", value);
    }
}
