using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    internal const string OffsetHeader = "Upload-Offset";
    private const int MaxUploadAttempts = 6;
    private const int MaxPartAttempts = 3;

    /// <summary>Parts of one file written to the object store at the same time (the AWS CLI writes ten).</summary>
    private const int DirectPartParallelism = 8;

    /// <summary>Set once the server said it takes upload bytes only through itself.</summary>
    private volatile bool _directUnavailable;

    /// <summary>How long an upload waits for another request's hold on it, in all (longer than the server's default 30 s writer lease).</summary>
    private static readonly TimeSpan MaxBusyWait = TimeSpan.FromMinutes(2);

    /// <summary>Opens a resumable upload session for a blob of <paramref name="model"/>.</summary>
    public Task<UploadInfo> StartUploadAsync(string ns, string model, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ModelPath(ns, model)}/uploads", null, Json.UploadInfo, cancellationToken);

    /// <summary>How many bytes the upload at <paramref name="location"/> holds durably.</summary>
    public async Task<long> GetUploadOffsetAsync(string location, CancellationToken cancellationToken = default) =>
        (await SendAsync(HttpMethod.Get, Relative(location), null, Json.UploadInfo, cancellationToken).ConfigureAwait(false)).Offset;

    /// <summary>Appends <paramref name="content"/> at <paramref name="offset"/>; returns the new offset.</summary>
    public async Task<long> AppendUploadAsync(string location, Stream content, long offset, long? length = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Patch, Relative(location));
        request.Content = new StreamContent(new ProgressStream(content, progress, leaveOpen: true), FileHasher.BufferSize);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (length is { } l)
        {
            request.Content.Headers.ContentLength = l;
        }

        request.Headers.TryAddWithoutValidation(OffsetHeader, offset.ToString(CultureInfo.InvariantCulture));
        using var response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
        return (await ReadAsync(response, Json.UploadInfo, cancellationToken).ConfigureAwait(false)).Offset;
    }

    /// <summary>Asks the server to verify the upload against <paramref name="digest"/> and <paramref name="size"/> and store it.</summary>
    public Task<BlobInfo> FinishUploadAsync(string location, Digest digest, long size, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"{Relative(location)}?digest={Segment(digest.ToString())}&size={size.ToString(CultureInfo.InvariantCulture)}", null, Json.BlobInfo, cancellationToken);

    /// <summary>
    /// Presigned URLs to write the upload's parts straight into the object store (then finish it as usual); null when
    /// the server takes upload bytes only through itself.
    /// </summary>
    public async Task<DirectUploadPlan?> PlanDirectUploadAsync(string location, long size, CancellationToken cancellationToken = default)
    {
        try
        {
            return await SendAsync(HttpMethod.Post, $"{Relative(location)}/parts", new DirectUploadRequest(size), Json.DirectUploadPlan, cancellationToken).ConfigureAwait(false);
        }
        catch (BerthProblemException e) when (e.Code == "direct_upload_unavailable")
        {
            return null;
        }
    }

    public Task CancelUploadAsync(string location, CancellationToken cancellationToken = default) =>
        SendNoContentAsync(HttpMethod.Delete, Relative(location), null, cancellationToken);

    /// <summary>Uploads a whole blob in one request (best for small files).</summary>
    public async Task<BlobInfo> PutBlobAsync(string ns, string model, Stream content, Digest digest, long size, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{ModelPath(ns, model)}/uploads?digest={Segment(digest.ToString())}&size={size.ToString(CultureInfo.InvariantCulture)}");
        request.Content = new StreamContent(new ProgressStream(content, progress, leaveOpen: true), FileHasher.BufferSize);
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentLength = size;
        using var response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
        return await ReadAsync(response, Json.BlobInfo, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Uploads a local file as a blob through a resumable session. A broken connection or a 5xx is
    /// retried from the offset the server holds; <paramref name="resume"/> (optional) remembers the
    /// session across processes so that a re-run continues where the last one stopped.
    /// </summary>
    public Task<BlobInfo> UploadFileAsync(string ns, string model, string path, Digest digest, long size, IUploadResumeStore? resume = null, IProgress<long>? progress = null, CancellationToken cancellationToken = default) =>
        UploadFileAsync(ns, model, path, digest, size, resume, $"{BaseUri.AbsoluteUri}|{ns}/{model}@{digest}", progress, cancellationToken);

    internal async Task<BlobInfo> UploadFileAsync(string ns, string model, string path, Digest digest, long size, IUploadResumeStore? resume, string resumeKey, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var location = resume?.Get(resumeKey);
        long offset = 0;
        if (location is not null)
        {
            try
            {
                offset = await GetUploadOffsetAsync(location, cancellationToken).ConfigureAwait(false);
                ProgressTracker.ReportResumed(progress, offset);
            }
            catch (BerthProblemException e) when (e.Status == HttpStatusCode.NotFound)
            {
                location = null;
            }
        }

        if (location is null)
        {
            location = (await StartUploadAsync(ns, model, cancellationToken).ConfigureAwait(false)).Location;
            resume?.Set(resumeKey, location);
        }

        try
        {
            var blob = await ContinueUploadAsync(location, path, digest, size, offset, progress, cancellationToken).ConfigureAwait(false);
            resume?.Remove(resumeKey);
            return blob;
        }
        catch (BerthProblemException e) when (e.Code is "digest_mismatch" or "size_mismatch" or "upload_not_found")
        {
            resume?.Remove(resumeKey);
            throw;
        }
    }

    /// <summary>
    /// Sends the rest of <paramref name="path"/> from <paramref name="offset"/> to an open upload and
    /// finishes it, resuming from the server's offset after failures.
    /// </summary>
    internal async Task<BlobInfo> ContinueUploadAsync(string location, string path, Digest digest, long size, long offset, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var failures = 0;
        var busyWaited = TimeSpan.Zero;
        while (true)
        {
            var sent = new AttemptProgress(progress);
            var before = offset;
            try
            {
                if (offset < size && await SendDirectAsync(location, path, size, sent, cancellationToken).ConfigureAwait(false))
                {
                    offset = size;
                }
                else if (offset < size)
                {
                    using var file = FileHasher.OpenSequential(path, offset);
                    offset = await AppendUploadAsync(location, file, offset, size - offset, sent, cancellationToken).ConfigureAwait(false);
                }

                return await FinishUploadAsync(location, digest, size, cancellationToken).ConfigureAwait(false);
            }
            catch (BerthProblemException e) when (e.Code == "upload_busy" && busyWaited < MaxBusyWait && !cancellationToken.IsCancellationRequested)
            {
                // Another request holds the upload: an earlier attempt of ours that the server has not noticed is gone
                // yet, or a replica that died with it (its hold lapses after the server's writer lease). Wait, don't count.
                var wait = BusyDelay(e);
                busyWaited += wait;
                await Task.Delay(wait, cancellationToken).ConfigureAwait(false);
                offset = await RetryAsync(ct => GetUploadOffsetAsync(location, ct), cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (++failures < MaxUploadAttempts && IsRetryable(e) && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Backoff(failures), cancellationToken).ConfigureAwait(false);
                offset = e is BerthProblemException { Code: "upload_offset_mismatch" } p && p.Extensions.TryGetValue("offset", out var o)
                    ? o.GetInt64()
                    : await RetryAsync(ct => GetUploadOffsetAsync(location, ct), cancellationToken).ConfigureAwait(false);
            }

            // Progress counted what was sent; the server kept up to its offset: correct the difference.
            progress?.Report(offset - before - sent.Total);
        }
    }

    /// <summary>How long to wait before trying a busy upload again: the server's hint (when its holder's lease lapses), at most 10 s.</summary>
    private static TimeSpan BusyDelay(BerthProblemException e)
    {
        var seconds = e.Extensions.TryGetValue("retryAfter", out var hint) && hint.ValueKind == System.Text.Json.JsonValueKind.Number ? hint.GetDouble() : 1;
        return TimeSpan.FromSeconds(Math.Clamp(seconds, 0.25, 10) * (0.75 + (Random.Shared.NextDouble() / 2)));
    }

    /// <summary>
    /// Writes the file's parts straight into the object store with the presigned URLs the server hands out (parts
    /// already there are skipped; several at a time). False when the server takes the bytes only through itself, or
    /// when this upload already holds bytes sent through it: then they go with PATCH.
    /// </summary>
    internal async Task<bool> SendDirectAsync(string location, string path, long size, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        if (_directUnavailable)
        {
            return false;
        }

        DirectUploadPlan? plan;
        try
        {
            plan = await PlanDirectUploadAsync(location, size, cancellationToken).ConfigureAwait(false);
        }
        catch (BerthProblemException e) when (e.Code == "upload_mode_conflict")
        {
            return false;
        }

        if (plan is null)
        {
            _directUnavailable = true;
            return false;
        }

        using var file = File.OpenHandle(path, FileMode.Open, FileAccess.Read, FileShare.Read, FileOptions.Asynchronous);
        await Parallel.ForEachAsync(plan.Parts.Where(p => !p.Uploaded), new ParallelOptions { MaxDegreeOfParallelism = DirectPartParallelism, CancellationToken = cancellationToken },
            async (part, ct) => await PutPartAsync(file, part, progress, ct).ConfigureAwait(false)).ConfigureAwait(false);
        return true;
    }

    /// <summary>PUTs one part to its presigned URL (never with the Berth token), retrying a few times before giving up.</summary>
    private async Task PutPartAsync(Microsoft.Win32.SafeHandles.SafeFileHandle file, DirectUploadPart part, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            var sent = new AttemptProgress(progress);
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(part.Url)) { Content = new FileRangeContent(file, part.Offset, part.Size, sent) };
                using var response = await DirectHttp.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
                if (!response.IsSuccessStatusCode)
                {
                    var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                    throw new HttpRequestException($"The object store refused part {part.Number} of the upload: {(int)response.StatusCode} {body[..Math.Min(body.Length, 300)]}", null, response.StatusCode);
                }

                return;
            }
            catch (Exception e) when (attempt < MaxPartAttempts && IsRetryable(e) && !cancellationToken.IsCancellationRequested)
            {
                progress?.Report(-sent.Total);
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// How a push remembers the upload of a local file: by server, model and the file's identity (path,
    /// size, modification time), which is known before its digest, so that streamed and plain uploads of
    /// the same file resume each other.
    /// </summary>
    internal string ResumeKey(string ns, string model, LocalFile file) =>
        $"{BaseUri.AbsoluteUri}|{ns}/{model}|{file.FullPath}|{file.Size}|{file.LastWriteUtc.Ticks}";

    /// <summary>Counts what one attempt reported, and passes it on.</summary>
    private sealed class AttemptProgress(IProgress<long>? inner) : IProgress<long>
    {
        private long _total;

        public long Total => Interlocked.Read(ref _total);

        public void Report(long value)
        {
            Interlocked.Add(ref _total, value);
            inner?.Report(value);
        }
    }

    internal static bool IsRetryable(Exception e) => e switch
    {
        HttpRequestException or IOException => true,
        // A full disk on the server (507) does not clear up in seconds: report it at once.
        BerthProblemException p => ((int)p.Status >= 500 && p.Code != "insufficient_storage") || p.Code is "upload_offset_mismatch" or "upload_busy",
        TimeoutException => true,
        _ => false,
    };

    internal static TimeSpan Backoff(int attempt) =>
        TimeSpan.FromMilliseconds(Math.Min(8000, 250 * Math.Pow(2, attempt - 1)) * (0.75 + (Random.Shared.NextDouble() / 2)));

    private static string Relative(string location) => location.TrimStart('/');
}
