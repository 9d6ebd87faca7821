using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    private const int MaxMetadataAttempts = 4;

    /// <summary>
    /// Pushes a folder (or one file) as a new version of <paramref name="ns"/>/<paramref name="model"/>:
    /// hashes the files (skipping unchanged ones known to the digest cache), declares the version, uploads
    /// only the blobs the server lacks (in parallel, resumable), and commits. Returns the ready version.
    /// Large files with unknown digests start streaming while they are hashed (see
    /// <see cref="PushOptions.StreamWhileHashingThreshold"/>), so hashing and uploading overlap.
    /// When a ready version of the model already has this content (its manifest digest, resolved through
    /// <c>@sha256:</c>), no version is created unless a semantic version is given or
    /// <see cref="PushOptions.AllowUnchanged"/> is set: see <see cref="PushResult.Unchanged"/>.
    /// An empty folder is refused (<see cref="ArgumentException"/>) before the server is contacted.
    /// </summary>
    public async Task<PushResult> PushAsync(string source, string ns, string model, PushOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var files = LocalTree.Scan(source);
        if (files.Count == 0)
        {
            throw new ArgumentException($"'{source}' holds no files (folders named .git and partial downloads are left out): there is nothing to push.", nameof(source));
        }

        var tracker = new ProgressTracker(progress);
        using var abandon = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var streams = new ConcurrentDictionary<int, StreamedUpload>();
        try
        {
            var digests = await HashAllAsync(ns, model, files, options, tracker, streams, abandon.Token, cancellationToken).ConfigureAwait(false);
            var entries = files.Select((f, i) => new FileEntry(f.Path, f.Size, digests[i].ToString())).ToList();
            var same = await FindSameContentAsync(ns, model, VersionManifest.ComputeDigest(entries), cancellationToken).ConfigureAwait(false);
            if (same is not null && options.Version is null && !options.AllowUnchanged)
            {
                foreach (var (i, stream) in streams.ToList())
                {
                    await stream.AbandonAsync(this).ConfigureAwait(false);
                    streams.TryRemove(i, out _);
                }

                var moves = new List<TransitionResult>();
                var pinned = same.Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
                foreach (var alias in options.Aliases ?? [])
                {
                    moves.Add(await SetAliasAsync(ns, model, alias, pinned, cancellationToken: cancellationToken).ConfigureAwait(false));
                }

                var current = moves.Count > 0 ? await GetVersionAsync(ModelReference.Parse($"{ns}/{model}:{pinned}"), cancellationToken: cancellationToken).ConfigureAwait(false) : same;
                tracker.Start(TransferPhase.Done, 0, 0);
                return new PushResult(current, files.Count, files.Sum(f => f.Size), 0, 0, clock.Elapsed) { Unchanged = true, SameContentAs = same, AliasMoves = moves };
            }

            var request = new CreateVersionRequest(entries, options.Version, options.Description, options.Metrics, options.Params, options.Tags, options.Aliases, options.Lineage);
            var idempotencyKey = Guid.NewGuid().ToString("N");
            var created = await RetryAsync(ct => CreateVersionAsync(ns, model, request, idempotencyKey, ct), cancellationToken).ConfigureAwait(false);

            var byDigest = ByDigest(files, digests, streams);
            await AbandonUnneededAsync(digests, created.MissingBlobs, byDigest, streams).ConfigureAwait(false);
            var uploaded = 0;
            var uploadedBytes = 0L;
            IReadOnlyList<string> toUpload = created.MissingBlobs;
            for (var round = 1; ; round++)
            {
                var (count, bytes) = await UploadMissingAsync(ns, model, files, digests, toUpload, byDigest, streams, options, tracker, cancellationToken).ConfigureAwait(false);
                uploaded += count;
                uploadedBytes += bytes;
                tracker.Start(TransferPhase.Committing, 0, 0);
                try
                {
                    var number = created.Version.Number;
                    var version = await RetryAsync(ct => CommitVersionAsync(ns, model, number, ct), cancellationToken).ConfigureAwait(false);
                    tracker.Start(TransferPhase.Done, 0, 0);
                    return new PushResult(version, files.Count, files.Sum(f => f.Size), uploaded, uploadedBytes - tracker.Resumed, clock.Elapsed) { SameContentAs = same };
                }
                catch (BerthProblemException e) when (round < 3 && MissingBlobs(e) is { } list)
                {
                    // A blob we were told the server had disappeared (garbage collection raced us): upload it too.
                    toUpload = list;
                }
            }
        }
        finally
        {
            // Failed or interrupted: stop streaming but keep the sessions, so running the push again resumes them.
            foreach (var stream in streams.Values)
            {
                await stream.StopAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>The digests a 409 <c>blobs_missing</c> names, or null for any other failure.</summary>
    private static List<string>? MissingBlobs(BerthProblemException e) =>
        e.Code == "blobs_missing" && e.Extensions.TryGetValue("missing", out var list) ? list.EnumerateArray().Select(x => x.GetString()!).ToList() : null;

    /// <summary>One file per digest, preferring a file whose bytes are streaming already.</summary>
    private static Dictionary<string, int> ByDigest(IReadOnlyList<LocalFile> files, Digest[] digests, ConcurrentDictionary<int, StreamedUpload> streams)
    {
        var byDigest = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var i in Enumerable.Range(0, files.Count).OrderBy(i => streams.ContainsKey(i) ? 0 : 1))
        {
            byDigest.TryAdd(digests[i].ToString(), i);
        }

        return byDigest;
    }

    /// <summary>Cancels the streamed uploads of digests that are not missing, or that another file already carries.</summary>
    private async Task AbandonUnneededAsync(Digest[] digests, IReadOnlyList<string> missingBlobs, Dictionary<string, int> byDigest, ConcurrentDictionary<int, StreamedUpload> streams)
    {
        var missing = missingBlobs.ToHashSet(StringComparer.Ordinal);
        foreach (var (i, stream) in streams.Where(s => !missing.Contains(digests[s.Key].ToString()) || byDigest[digests[s.Key].ToString()] != s.Key).ToList())
        {
            await stream.AbandonAsync(this).ConfigureAwait(false);
            streams.TryRemove(i, out _);
        }
    }

    /// <summary>Uploads the files that carry <paramref name="toUpload"/> in parallel (finishing those already streaming); answers how many files and bytes.</summary>
    private async Task<(int Files, long Bytes)> UploadMissingAsync(string ns, string model, IReadOnlyList<LocalFile> files, Digest[] digests, IReadOnlyList<string> toUpload,
        Dictionary<string, int> byDigest, ConcurrentDictionary<int, StreamedUpload> streams, PushOptions options, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        var uploaded = 0;
        var uploadedBytes = 0L;
        var work = toUpload.Where(byDigest.ContainsKey).Select(d => byDigest[d]).ToList();
        tracker.Start(TransferPhase.Uploading, work.Sum(i => files[i].Size), work.Count);
        foreach (var i in work.Where(streams.ContainsKey))
        {
            streams[i].Attach(tracker);
        }

        await Parallel.ForEachAsync(work, Options(options.Parallelism, cancellationToken), async (i, ct) =>
        {
            if (streams.TryRemove(i, out var stream))
            {
                await stream.CompleteAsync(this, files[i], digests[i], tracker, ct).ConfigureAwait(false);
            }
            else
            {
                await UploadOneAsync(ns, model, files[i], digests[i], options, tracker, ct).ConfigureAwait(false);
            }

            Interlocked.Increment(ref uploaded);
            Interlocked.Add(ref uploadedBytes, files[i].Size);
            tracker.FileDone();
        }).ConfigureAwait(false);
        return (uploaded, uploadedBytes);
    }

    /// <summary>The ready version of the model with this content (the oldest, as <c>@sha256:</c> resolves), or null.</summary>
    private async Task<VersionInfo?> FindSameContentAsync(string ns, string model, Digest manifestDigest, CancellationToken cancellationToken)
    {
        try
        {
            return await RetryAsync(ct => GetVersionAsync(ModelReference.Parse($"{ns}/{model}@{manifestDigest}"), cancellationToken: ct), cancellationToken).ConfigureAwait(false);
        }
        catch (BerthProblemException e) when (e.Code is "namespace_not_found" or "model_not_found" or "version_not_found")
        {
            return null;
        }
    }

    /// <summary>
    /// Digests of every file: from the cache, or computed (in parallel). Large uncached files also
    /// start streaming to a new upload session while they are hashed.
    /// </summary>
    private async Task<Digest[]> HashAllAsync(string ns, string model, IReadOnlyList<LocalFile> files, PushOptions options, ProgressTracker tracker, ConcurrentDictionary<int, StreamedUpload> streams, CancellationToken abandon, CancellationToken cancellationToken)
    {
        tracker.Start(TransferPhase.Hashing, files.Sum(f => f.Size), files.Count);
        var digests = new Digest[files.Count];
        var todo = new List<int>();
        for (var i = 0; i < files.Count; i++)
        {
            var file = files[i];
            if (options.DigestCache?.TryGet(file.FullPath, file.Size, file.LastWriteUtc, out var cached) == true)
            {
                digests[i] = cached;
                tracker.Report(file.Size);
                tracker.FileDone();
            }
            else
            {
                todo.Add(i);
                if (file.Size >= options.StreamWhileHashingThreshold && streams.Count < options.Parallelism)
                {
                    streams[i] = StreamedUpload.Start(this, ns, model, file, options.ResumeStore, abandon);
                }
            }
        }

        await Parallel.ForEachAsync(todo, Options(Math.Max(1, Math.Min(options.Parallelism, Environment.ProcessorCount)), cancellationToken), async (i, ct) =>
        {
            var file = files[i];
            digests[i] = await FileHasher.HashFileAsync(file.FullPath, tracker, ct).ConfigureAwait(false);
            options.DigestCache?.Set(file.FullPath, file.Size, file.LastWriteUtc, digests[i]);
            tracker.FileDone();
        }).ConfigureAwait(false);
        if (options.DigestCache is not null)
        {
            await options.DigestCache.SaveAsync(cancellationToken).ConfigureAwait(false);
        }

        return digests;
    }

    private async Task UploadOneAsync(string ns, string model, LocalFile file, Digest digest, PushOptions options, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        if (file.Size > options.SingleRequestLimit)
        {
            await UploadFileAsync(ns, model, file.FullPath, digest, file.Size, options.ResumeStore, ResumeKey(ns, model, file), tracker, cancellationToken).ConfigureAwait(false);
            return;
        }

        for (var attempt = 1; ; attempt++)
        {
            var sent = new CountingProgress(tracker);
            try
            {
                using var content = FileHasher.OpenSequential(file.FullPath);
                await PutBlobAsync(ns, model, content, digest, file.Size, sent, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (Exception e) when (attempt < MaxUploadAttempts && IsRetryable(e) && !cancellationToken.IsCancellationRequested)
            {
                tracker.Report(-sent.Total);
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Retries an idempotent metadata call on connection failures and 5xx answers.</summary>
    private static async Task<T> RetryAsync<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (attempt < MaxMetadataAttempts && IsRetryable(e) && e is not BerthProblemException { Code: "upload_offset_mismatch" or "upload_busy" } && !cancellationToken.IsCancellationRequested)
            {
                await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);
            }
        }
    }

    private static ParallelOptions Options(int parallelism, CancellationToken cancellationToken) =>
        new() { MaxDegreeOfParallelism = Math.Max(1, parallelism), CancellationToken = cancellationToken };

    private sealed class CountingProgress(IProgress<long> inner) : IProgress<long>
    {
        private long _total;

        public long Total => Interlocked.Read(ref _total);

        public void Report(long value)
        {
            Interlocked.Add(ref _total, value);
            inner.Report(value);
        }
    }

    /// <summary>
    /// A file being sent to an upload session while it is still being hashed. The session is remembered
    /// under the file's identity (path, size, modification time), so a push interrupted before the
    /// digest was known still resumes.
    /// </summary>
    private sealed class StreamedUpload : IProgress<long>
    {
        private readonly Lock _gate = new();
        private readonly CancellationTokenSource _cancel;
        private readonly IUploadResumeStore? _resume;
        private readonly string _resumeKey;
        private IProgress<long>? _forward;
        private long _sent;
        private long _resumedFrom;
        private string? _location;
        private Task<long> _streaming = Task.FromResult(0L);

        private StreamedUpload(IUploadResumeStore? resume, string resumeKey, CancellationToken abandon)
        {
            _resume = resume;
            _resumeKey = resumeKey;
            _cancel = CancellationTokenSource.CreateLinkedTokenSource(abandon);
        }

        public static StreamedUpload Start(BerthClient client, string ns, string model, LocalFile file, IUploadResumeStore? resume, CancellationToken abandon)
        {
            var upload = new StreamedUpload(resume, client.ResumeKey(ns, model, file), abandon);
            upload._streaming = upload.StreamAsync(client, ns, model, file);
            return upload;
        }

        /// <summary>From now on, report progress to <paramref name="tracker"/> (which first gets what happened so far).</summary>
        public void Attach(ProgressTracker tracker)
        {
            lock (_gate)
            {
                _forward = tracker;
                tracker.Skip(_resumedFrom);
                tracker.Report(_sent);
            }
        }

        public void Report(long value)
        {
            lock (_gate)
            {
                _sent += value;
                _forward?.Report(value);
            }
        }

        private async Task<long> StreamAsync(BerthClient client, string ns, string model, LocalFile file)
        {
            try
            {
                long offset = 0;
                _location = _resume?.Get(_resumeKey);
                if (_location is not null)
                {
                    try
                    {
                        offset = await client.GetUploadOffsetAsync(_location, _cancel.Token).ConfigureAwait(false);
                        lock (_gate)
                        {
                            _resumedFrom = offset;
                        }
                    }
                    catch (BerthProblemException e) when (e.Status == HttpStatusCode.NotFound)
                    {
                        _location = null;
                    }
                }

                if (_location is null)
                {
                    // Not cancellable: a session the server created must be known here, so abandoning can delete it.
                    _location = (await client.StartUploadAsync(ns, model, CancellationToken.None).ConfigureAwait(false)).Location;
                    _resume?.Set(_resumeKey, _location);
                }

                if (offset >= file.Size)
                {
                    return offset;
                }

                if (await client.SendDirectAsync(_location, file.FullPath, file.Size, this, _cancel.Token).ConfigureAwait(false))
                {
                    return file.Size;
                }

                using var content = FileHasher.OpenSequential(file.FullPath, offset);
                return await client.AppendUploadAsync(_location, content, offset, file.Size - offset, this, _cancel.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (IsRetryable(e) || e is OperationCanceledException)
            {
                // Finishing resumes from whatever the server holds; abandoning does not care.
                return -1;
            }
        }

        /// <summary>Waits for the stream, sends whatever is still missing, and finishes with the digest.</summary>
        public async Task CompleteAsync(BerthClient client, LocalFile file, Digest digest, ProgressTracker tracker, CancellationToken cancellationToken)
        {
            var offset = await _streaming.ConfigureAwait(false);
            if (_location is null)
            {
                throw new InvalidOperationException($"Could not open an upload for '{file.Path}'.");
            }

            if (offset < 0)
            {
                // The stream broke (its server may be gone: behind a load balancer another replica answers this).
                var location = _location;
                offset = await RetryAsync(ct => client.GetUploadOffsetAsync(location, ct), cancellationToken).ConfigureAwait(false);
                lock (_gate)
                {
                    tracker.Report(offset - _resumedFrom - _sent);
                    _forward = null;
                }
            }

            await client.ContinueUploadAsync(_location, file.FullPath, digest, file.Size, offset, tracker, cancellationToken).ConfigureAwait(false);
            _resume?.Remove(_resumeKey);
        }

        /// <summary>Stops sending; the session stays on the server (and in the resume store) to be continued later.</summary>
        public async Task StopAsync()
        {
            await _cancel.CancelAsync().ConfigureAwait(false);
            try
            {
                await _streaming.ConfigureAwait(false);
            }
            catch (Exception)
            {
                // The stream failed on its own; what the server holds is what counts.
            }
        }

        /// <summary>Cancel attempts while the stopped stream's request still holds the upload (about 8 s in all).</summary>
        private const int MaxCancelAttempts = 20;

        /// <summary>Stops the stream and deletes the upload (the server already has these bytes).</summary>
        public async Task AbandonAsync(BerthClient client)
        {
            await StopAsync().ConfigureAwait(false);

            if (_location is null)
            {
                return;
            }

            // The stream just stopped, but its request may still hold the upload's writer lease on the server for a
            // moment (until the server notices the broken connection): then the cancel is busy and is tried again.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await client.CancelUploadAsync(_location, CancellationToken.None).ConfigureAwait(false);
                    _resume?.Remove(_resumeKey);
                    return;
                }
                catch (BerthProblemException e) when (e.Code == "upload_busy" && attempt < MaxCancelAttempts)
                {
                    await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(100 * attempt, 500))).ConfigureAwait(false);
                }
                catch (Exception e) when (e is BerthProblemException or HttpRequestException or TimeoutException)
                {
                    // An upload left behind expires on the server by itself.
                    return;
                }
            }
        }
    }
}
