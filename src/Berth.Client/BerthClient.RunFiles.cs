using System.Collections.Concurrent;
using System.Diagnostics;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    /// <summary>
    /// Attaches blobs already uploaded into the model to a run, by path, all or none (a path attached again is replaced).
    /// A blob that is not there for the caller fails with <c>blobs_missing</c>, naming the digests to upload.
    /// </summary>
    public Task<RunFileList> AttachRunFilesAsync(string ns, string model, string id, IReadOnlyList<FileEntry> files, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{RunsPath(ns, model)}/{Segment(id)}/files", new AttachRunFilesRequest(files), Json.RunFileList, cancellationToken);

    /// <summary>The files of a run, in path order.</summary>
    public IAsyncEnumerable<RunFileInfo> ListRunFilesAsync(string ns, string model, string id, CancellationToken cancellationToken = default) =>
        PagesAsync($"{RunsPath(ns, model)}/{Segment(id)}/files{Query(("limit", "1000"))}", Json.PageRunFileInfo, cancellationToken);

    /// <summary>Opens one file of a run for reading (Range from <paramref name="offset"/> on).</summary>
    public async Task<Stream> OpenRunFileAsync(string ns, string model, string id, string path, long offset = 0, CancellationToken cancellationToken = default)
    {
        Check(FilePaths.Check(path));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{RunsPath(ns, model)}/{Segment(id)}/files/{FilePath(path)}");
        if (offset > 0)
        {
            request.Headers.Range = new System.Net.Http.Headers.RangeHeaderValue(offset, null);
        }

        var response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Registers a run as a ready version of its model from the files it holds (all, or those under
    /// <see cref="RegisterRunRequest.Path"/>, with that prefix stripped), without uploading them again. Retried safely
    /// (one idempotency key for every attempt).
    /// </summary>
    public Task<VersionInfo> RegisterRunAsync(string ns, string model, string id, RegisterRunRequest? request = null, CancellationToken cancellationToken = default)
    {
        var key = Guid.NewGuid().ToString("N");
        return RetryAsync(ct => SendAsync(HttpMethod.Post, $"{RunsPath(ns, model)}/{Segment(id)}/register", request ?? new RegisterRunRequest(), Json.VersionInfo, ct, WithIdempotencyKey(key)), cancellationToken);
    }

    /// <summary>
    /// Uploads a folder (or one file) as files of a run, with the transfer code of <see cref="PushAsync"/>: hashes the
    /// files (with <see cref="PushOptions.DigestCache"/>), asks the server to attach them, uploads only the blobs it
    /// answers missing (in parallel, resumable through <see cref="PushOptions.ResumeStore"/>, large files streaming
    /// while they are hashed) and attaches again. Paths are relative to the folder (a single file keeps its name).
    /// Only the transfer settings of <paramref name="options"/> are used. An empty folder is refused
    /// (<see cref="ArgumentException"/>) before the server is contacted.
    /// </summary>
    public async Task<RunFilesResult> UploadRunFilesAsync(string ns, string model, string id, string source, PushOptions? options = null, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        options ??= new PushOptions();
        var clock = Stopwatch.StartNew();
        var files = LocalTree.Scan(source);
        if (files.Count == 0)
        {
            throw new ArgumentException($"'{source}' holds no files (folders named .git and partial downloads are left out): there is nothing to upload.", nameof(source));
        }

        var tracker = new ProgressTracker(progress);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var streams = new ConcurrentDictionary<int, StreamedUpload>();
        try
        {
            var digests = await HashAllAsync(ns, model, files, options, tracker, streams, abandon.Token, cancellationToken).ConfigureAwait(false);
            var entries = files.Select((f, i) => new FileEntry(f.Path, f.Size, digests[i].ToString())).ToList();
            var byDigest = ByDigest(files, digests, streams);
            var uploaded = 0;
            var uploadedBytes = 0L;
            IReadOnlyList<string> toUpload = [];
            for (var round = 1; ; round++)
            {
                if (toUpload.Count > 0)
                {
                    var (count, bytes) = await UploadMissingAsync(ns, model, files, digests, toUpload, byDigest, streams, options, tracker, cancellationToken).ConfigureAwait(false);
                    uploaded += count;
                    uploadedBytes += bytes;
                }

                tracker.Start(TransferPhase.Committing, 0, 0);
                try
                {
                    // Attaching first answers exactly what the server lacks for this run (by its rule, which also counts the
                    // bytes already uploaded into the model or attached to its runs), so an unchanged folder sends nothing.
                    var attached = await RetryAsync(ct => AttachRunFilesAsync(ns, model, id, entries, ct), cancellationToken).ConfigureAwait(false);
                    await AbandonUnneededAsync(digests, [], byDigest, streams).ConfigureAwait(false);
                    tracker.Start(TransferPhase.Done, 0, 0);
                    return new RunFilesResult(attached.Files, files.Count, files.Sum(f => f.Size), uploaded, uploadedBytes - tracker.Resumed, clock.Elapsed);
                }
                catch (BerthProblemException e) when (round < 3 && MissingBlobs(e) is { } list)
                {
                    toUpload = list;
                    await AbandonUnneededAsync(digests, list, byDigest, streams).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            // Failed or interrupted: stop streaming but keep the sessions, so uploading again resumes them.
            foreach (var stream in streams.Values)
            {
                await stream.StopAsync().ConfigureAwait(false);
            }
        }
    }
}
