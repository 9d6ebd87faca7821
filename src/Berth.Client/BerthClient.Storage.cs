using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Berth.Contracts.Dtos;

namespace Berth.Client;

public sealed partial class BerthClient
{
    /// <summary>
    /// Runs garbage collection on the server (server administrators only): purges versions deleted longer
    /// ago than the purge delay, deletes unreferenced blobs past the grace period and expired upload
    /// sessions. With <paramref name="dryRun"/> nothing changes and the report says what would go.
    /// </summary>
    public Task<GcReport> RunGcAsync(bool dryRun = false, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, ApiPrefix + "gc" + (dryRun ? "?dryRun=true" : ""), null, Json.GcReport, cancellationToken);

    /// <summary>
    /// Scrubs the server's blob store (server administrators only): yields each problem as it is found, progress every
    /// few seconds and the report last. With <paramref name="quarantine"/>, missing or corrupt blobs are quarantined.
    /// A scrub that stops on the server raises <see cref="BerthProblemException"/> with the code it sent; another scrub
    /// already running is 409 <c>fsck_running</c>. The call has no timeout: cancel it through the token.
    /// </summary>
    public async IAsyncEnumerable<FsckLine> RunFsckAsync(bool quarantine = false, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, ApiPrefix + "fsck" + (quarantine ? "?quarantine=true" : ""));
        request.Headers.Accept.ParseAdd("application/x-ndjson");
        using var response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
        using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), Encoding.UTF8);
        var reported = false;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } text)
        {
            if (text.Length == 0 || reported)
            {
                continue;
            }

            var line = JsonSerializer.Deserialize(text, Json.FsckLine) ?? throw new InvalidDataException("The server sent an empty scrub line.");
            if (line.Type == FsckLine.ErrorType)
            {
                var code = line.Code ?? "internal_error";
                var status = Contracts.Errors.ErrorCodes.All.TryGetValue(code, out var known) ? (HttpStatusCode)known.Status : HttpStatusCode.InternalServerError;
                throw new BerthProblemException(status, code, known?.Title, line.Detail, null, new Dictionary<string, JsonElement>());
            }

            yield return line;
            // The report is the last line, but the scrub is over (its lease released) only when the answer ends: read
            // to the end, so a scrub started right after this one returns is not refused as still running.
            reported = line.Type == FsckLine.ReportType;
        }

        if (reported)
        {
            yield break;
        }

        throw new IOException("The scrub's answer ended before its report: the connection broke or the server stopped. Run it again.");
    }

    /// <summary>The retention policy of a namespace (<paramref name="model"/> null) or a model's own one (404 <c>retention_not_set</c> when none).</summary>
    public Task<RetentionPolicyInfo> GetRetentionAsync(string ns, string? model = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, RetentionPath(ns, model), null, Json.RetentionPolicyInfo, cancellationToken);

    /// <summary>Sets the retention policy of a namespace (<paramref name="model"/> null) or a model (namespace admins).</summary>
    public Task<RetentionPolicyInfo> SetRetentionAsync(string ns, string? model, SetRetentionRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, RetentionPath(ns, model), request, Json.RetentionPolicyInfo, cancellationToken);

    public Task RemoveRetentionAsync(string ns, string? model = null, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, RetentionPath(ns, model), null, cancellationToken);

    /// <summary>The versions the retention policies in effect would delete now (nothing changes).</summary>
    public Task<RetentionPreview> PreviewRetentionAsync(string ns, string? model = null, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, RetentionPath(ns, model) + "/preview", null, Json.RetentionPreview, cancellationToken);

    /// <summary>A namespace's storage quotas and usage.</summary>
    public Task<QuotaInfo> GetQuotaAsync(string ns, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}namespaces/{Segment(ns)}/quota", null, Json.QuotaInfo, cancellationToken);

    /// <summary>Sets both quotas of a namespace (server administrators; null is unlimited).</summary>
    public Task<QuotaInfo> SetQuotaAsync(string ns, SetQuotaRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"{ApiPrefix}namespaces/{Segment(ns)}/quota", request, Json.QuotaInfo, cancellationToken);

    private static string RetentionPath(string ns, string? model) =>
        model is null ? $"{ApiPrefix}namespaces/{Segment(ns)}/retention" : $"{ModelPath(ns, model)}/retention";
}
