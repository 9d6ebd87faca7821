using System.Diagnostics;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    private const int MaxMetadataAttempts = 4;

    /// <summary>
    /// Pushes a folder (or one file) as a new version of <paramref name="ns"/>/<paramref name="model"/>:
    /// hashes the files (skipping unchanged ones known to the digest cache), declares the version, uploads
    /// only the blobs the server lacks (in parallel, resumable), and commits. Returns the ready version.
    /// </summary>
    public async Task<PushResult> PushAsync(string source, string ns, string model, PushOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var files = LocalTree.Scan(source);
        var tracker = new ProgressTracker(progress);

        tracker.Start(TransferPhase.Hashing, files.Sum(f => f.Size), files.Count);
        var digests = new Digest[files.Count];
        await Parallel.ForEachAsync(Enumerable.Range(0, files.Count), Options(Math.Max(1, Math.Min(options.Parallelism, Environment.ProcessorCount)), cancellationToken), async (i, ct) =>
        {
            var file = files[i];
            if (options.DigestCache?.TryGet(file.FullPath, file.Size, file.LastWriteUtc, out var cached) == true)
            {
                digests[i] = cached;
                tracker.Report(file.Size);
            }
            else
            {
                digests[i] = await FileHasher.HashFileAsync(file.FullPath, tracker, ct).ConfigureAwait(false);
                options.DigestCache?.Set(file.FullPath, file.Size, file.LastWriteUtc, digests[i]);
            }

            tracker.FileDone();
        }).ConfigureAwait(false);
        if (options.DigestCache is not null)
        {
            await options.DigestCache.SaveAsync(cancellationToken).ConfigureAwait(false);
        }

        var entries = files.Select((f, i) => new FileEntry(f.Path, f.Size, digests[i].ToString())).ToList();
        var request = new CreateVersionRequest(entries, options.Version, options.Description, options.Metrics, options.Params, options.Tags, options.Aliases, options.Lineage);
        var idempotencyKey = Guid.NewGuid().ToString("N");
        var created = await RetryAsync(ct => CreateVersionAsync(ns, model, request, idempotencyKey, ct), cancellationToken).ConfigureAwait(false);

        var byDigest = files.Select((f, i) => (File: f, Digest: digests[i])).DistinctBy(x => x.Digest).ToDictionary(x => x.Digest.ToString(), x => x);
        var uploaded = 0;
        var uploadedBytes = 0L;
        var missing = created.MissingBlobs;
        for (var round = 1; ; round++)
        {
            var work = missing.Select(d => byDigest[d]).ToList();
            tracker.Start(TransferPhase.Uploading, work.Sum(w => w.File.Size), work.Count);
            await Parallel.ForEachAsync(work, Options(options.Parallelism, cancellationToken), async (item, ct) =>
            {
                await UploadOneAsync(ns, model, item.File, item.Digest, options, tracker, ct).ConfigureAwait(false);
                Interlocked.Increment(ref uploaded);
                Interlocked.Add(ref uploadedBytes, item.File.Size);
                tracker.FileDone();
            }).ConfigureAwait(false);

            tracker.Start(TransferPhase.Committing, 0, 0);
            try
            {
                var number = created.Version.Number;
                var version = await RetryAsync(ct => CommitVersionAsync(ns, model, number, ct), cancellationToken).ConfigureAwait(false);
                tracker.Start(TransferPhase.Done, 0, 0);
                return new PushResult(version, files.Count, files.Sum(f => f.Size), uploaded, uploadedBytes, clock.Elapsed);
            }
            catch (BerthProblemException e) when (round < 3 && e.Code == "blobs_missing" && e.Extensions.TryGetValue("missing", out var list))
            {
                // A blob we were told the server had disappeared (garbage collection raced us): upload it too.
                missing = list.EnumerateArray().Select(x => x.GetString()!).Where(byDigest.ContainsKey).ToList();
            }
        }
    }

    private async Task UploadOneAsync(string ns, string model, LocalFile file, Digest digest, PushOptions options, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        if (file.Size > options.SingleRequestLimit)
        {
            await UploadFileAsync(ns, model, file.FullPath, digest, file.Size, options.ResumeStore, tracker, cancellationToken).ConfigureAwait(false);
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
        public long Total { get; private set; }

        public void Report(long value)
        {
            Total += value;
            inner.Report(value);
        }
    }
}
