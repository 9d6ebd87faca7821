using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    /// <summary>Versions of a model, newest first; <paramref name="allStates"/> includes pending, failed and deleted ones.</summary>
    public IAsyncEnumerable<VersionInfo> ListVersionsAsync(string ns, string model, bool allStates = false, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ModelPath(ns, model)}/versions{(allStates ? "?state=all" : "")}", Json.PageVersionInfo, cancellationToken);

    public Task<VersionInfo> GetVersionAsync(ModelReference reference, bool withFiles = false, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, VersionPath(reference) + (withFiles ? "?files=true" : ""), null, Json.VersionInfo, cancellationToken);

    /// <summary>
    /// Records an evaluation of a ready version (metrics measured after the push, on a dataset, by a run of the model):
    /// its metrics become the version's effective ones, the pushed values are kept. Retrying with the same
    /// <paramref name="idempotencyKey"/> records it once.
    /// </summary>
    public Task<EvaluationInfo> EvaluateVersionAsync(ModelReference reference, CreateEvaluationRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, VersionPath(reference) + "/evaluations", request, Json.EvaluationInfo, cancellationToken, WithIdempotencyKey(idempotencyKey));

    /// <summary>The evaluations of a version, newest first.</summary>
    public IAsyncEnumerable<EvaluationInfo> ListEvaluationsAsync(ModelReference reference, CancellationToken cancellationToken = default) =>
        PagesAsync(VersionPath(reference) + "/evaluations", Json.PageEvaluationInfo, cancellationToken);

    /// <summary>Declares a version (pending). Retrying with the same <paramref name="idempotencyKey"/> is safe.</summary>
    public Task<CreateVersionResponse> CreateVersionAsync(string ns, string model, CreateVersionRequest request, string? idempotencyKey = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ModelPath(ns, model)}/versions", request, Json.CreateVersionResponse, cancellationToken, WithIdempotencyKey(idempotencyKey));

    public Task<VersionInfo> CommitVersionAsync(string ns, string model, int number, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ModelPath(ns, model)}/versions/{number}/commit", null, Json.VersionInfo, cancellationToken);

    public Task<VersionInfo> UpdateVersionAsync(ModelReference reference, UpdateVersionRequest request, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Patch, VersionPath(reference), request, Json.VersionInfo, cancellationToken, IfMatch(ifMatch));

    public Task<VersionInfo> DeleteVersionAsync(ModelReference reference, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Delete, VersionPath(reference), null, Json.VersionInfo, cancellationToken, IfMatch(ifMatch));

    /// <summary>
    /// Moves a version to a stage. <see cref="TransitionResult.Outcome"/> says what happened: applied,
    /// unchanged, or requested (the stage is protected: <see cref="TransitionResult.Request"/> waits for approvals).
    /// A failed gate is a <see cref="BerthProblemException"/> with code <c>gate_failed</c>.
    /// </summary>
    public Task<TransitionResult> ChangeStageAsync(ModelReference reference, string stage, string? comment = null, string? ifMatch = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, VersionPath(reference) + "/stage", new StageChangeRequest(stage, comment), Json.TransitionResult, cancellationToken, IfMatch(ifMatch));

    /// <summary>The canonical manifest bytes of a version (their SHA-256 is its manifest digest).</summary>
    public async Task<byte[]> GetManifestAsync(ModelReference reference, CancellationToken cancellationToken = default)
    {
        using var response = await SendRawAsync(HttpMethod.Get, VersionPath(reference) + "/manifest", null, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
    }

    public IAsyncEnumerable<FileEntry> ListFilesAsync(ModelReference reference, CancellationToken cancellationToken = default) =>
        PagesAsync(VersionPath(reference) + "/files", Json.PageFileEntry, cancellationToken);

    /// <summary>Searches ready versions with a filter expression (e.g. <c>metrics.auc &gt; 0.9 and tags.team = "risk"</c>).</summary>
    public IAsyncEnumerable<VersionInfo> SearchAsync(string? filter, string? sort = null, CancellationToken cancellationToken = default) =>
        PagesAsync($"{ApiPrefix}search{Query(("q", filter), ("sort", sort))}", Json.PageVersionInfo, cancellationToken);

    public Task<Page<VersionInfo>> SearchPageAsync(string? filter, string? sort = null, int? limit = null, string? cursor = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}search{Query(("q", filter), ("sort", sort), ("limit", limit?.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("cursor", cursor))}", null, Json.PageVersionInfo, cancellationToken);

    /// <summary>Which of these digests the server does not hold.</summary>
    public async Task<IReadOnlyList<string>> CheckBlobsAsync(IReadOnlyList<string> digests, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Post, ApiPrefix + "blobs/check", new BlobCheckRequest(digests), Json.BlobCheckResponse, cancellationToken).ConfigureAwait(false)).Missing;
}
