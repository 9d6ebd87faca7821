using System.Buffers;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;
using Microsoft.Win32.SafeHandles;

namespace Berth.Client;

public sealed partial class BerthClient
{
    internal const string PartialSuffix = ".berth-partial";
    private const int MaxDownloadAttempts = 6;
    private static readonly string EmptyDigest = Digest.Compute([]).ToString();

    /// <summary>Opens one file of a version for reading, from <paramref name="offset"/> on.</summary>
    public async Task<Stream> OpenFileAsync(ModelReference reference, string path, long offset = 0, CancellationToken cancellationToken = default)
    {
        Check(FilePaths.Check(path));
        using var request = new HttpRequestMessage(HttpMethod.Get, $"{VersionPath(reference)}/files/{FilePath(path)}");
        if (offset > 0)
        {
            request.Headers.Range = new RangeHeaderValue(offset, null);
        }

        var response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Downloads one file to <paramref name="destination"/>: through a <c>.berth-partial</c> file (opened without
    /// following links) that a later call resumes with a Range request, hashed while written (a resumed prefix is
    /// read back and hashed too), renamed into place only when the whole file's size and SHA-256 match
    /// <paramref name="expected"/>. A resumed partial that does not verify is discarded and the file downloaded
    /// again once; a fresh download that does not verify is deleted and throws <see cref="InvalidDataException"/>.
    /// A download that breaks off or is cancelled keeps its partial file (unless it is empty), to be resumed.
    /// </summary>
    public async Task DownloadFileAsync(ModelReference reference, FileEntry expected, string destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        await DownloadCoreAsync(reference, expected, Path.GetFullPath(destination), progress, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>What one file's download did: bytes fetched now, bytes taken from a partial download, bytes of a partial that was discarded.</summary>
    internal readonly record struct DownloadOutcome(long Fetched, long Resumed, long Discarded);

    internal async Task<DownloadOutcome> DownloadCoreAsync(ModelReference reference, FileEntry expected, string destination, IProgress<long>? progress, CancellationToken cancellationToken)
    {
        var digest = Digest.Parse(expected.Digest);
        var partial = destination + PartialSuffix;
        if (TargetFolder.KindOf(partial) is EntryKind.Link or EntryKind.Directory)
        {
            // Not something a pull left: never write through it.
            TargetFolder.Remove(partial);
        }

        var handle = NoFollow.OpenExisting(partial)
            ?? File.OpenHandle(partial, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous);
        var verified = false;
        var discard = false;
        long fetched = 0, resumed = 0, discarded = 0;
        var shown = new AttemptProgress(progress);
        try
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var have = RandomAccess.GetLength(handle);
            if (have > expected.Size)
            {
                discarded = have;
                RandomAccess.SetLength(handle, 0);
                have = 0;
            }

            if (have > 0)
            {
                await HashPrefixAsync(handle, have, hash, cancellationToken).ConfigureAwait(false);
                resumed = have;
                shown.Report(have);
            }

            while (true)
            {
                for (var attempt = 1; have < expected.Size; attempt++)
                {
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Get, $"{VersionPath(reference)}/files/{FilePath(expected.Path)}");
                        if (have > 0)
                        {
                            request.Headers.Range = new RangeHeaderValue(have, null);
                            request.Headers.IfRange = new RangeConditionHeaderValue(new EntityTagHeaderValue($"\"{expected.Digest}\""));
                        }

                        using var response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
                        if (have > 0 && response.StatusCode != HttpStatusCode.PartialContent)
                        {
                            // The server sent the whole file: start over.
                            shown.Report(-shown.Total);
                            RandomAccess.SetLength(handle, 0);
                            hash.GetHashAndReset();
                            resumed = 0;
                            have = 0;
                        }

                        using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                        var before = shown.Total;
                        try
                        {
                            have += await HashingCopy.CopyAsync(body, handle, have, hash, shown, cancellationToken).ConfigureAwait(false);
                        }
                        finally
                        {
                            fetched += shown.Total - before;
                        }

                        if (have < expected.Size)
                        {
                            throw new IOException($"The download of '{expected.Path}' ended after {have} of {expected.Size} bytes.");
                        }
                    }
                    catch (Exception e) when (attempt < MaxDownloadAttempts && IsRetryable(e) && !cancellationToken.IsCancellationRequested)
                    {
                        await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);

                        // Whatever reached the file is kept; the hash must cover exactly those bytes (read back:
                        // a chunk may have been hashed but not written when the attempt failed).
                        have = RandomAccess.GetLength(handle);
                        hash.GetHashAndReset();
                        await HashPrefixAsync(handle, have, hash, cancellationToken).ConfigureAwait(false);
                        shown.Report(have - shown.Total);
                    }
                }

                var problem = have != expected.Size
                    ? $"'{expected.Path}' has {have} bytes, not the {expected.Size} the manifest lists"
                    : Digest.FromHash(hash.GetHashAndReset()) is var actual && actual != digest
                        ? $"'{expected.Path}' hashes to {actual}, not {digest}"
                        : null;
                if (problem is null)
                {
                    verified = true;
                    break;
                }

                if (resumed > 0)
                {
                    // The part kept from an earlier pull was wrong (changed on disk, or written by something else): fetch it all again.
                    discarded = resumed;
                    shown.Report(-shown.Total);
                    RandomAccess.SetLength(handle, 0);
                    resumed = 0;
                    have = 0;
                    continue;
                }

                discard = true;
                throw new InvalidDataException($"{problem}: the download was corrupted and has been discarded.");
            }
        }
        finally
        {
            var keep = !discard && !handle.IsClosed && RandomAccess.GetLength(handle) > 0;
            handle.Dispose();
            if (!verified && !keep)
            {
                File.Delete(partial);
            }
        }

        File.Move(partial, destination, overwrite: true);
        return new DownloadOutcome(fetched, resumed, discarded);
    }

    /// <summary>Feeds the first <paramref name="length"/> bytes of a file into the hash, through the handle already open.</summary>
    private static async Task HashPrefixAsync(SafeFileHandle handle, long length, IncrementalHash hash, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(FileHasher.BufferSize);
        try
        {
            for (long position = 0; position < length;)
            {
                var read = await RandomAccess.ReadAsync(handle, buffer.AsMemory(0, (int)Math.Min(buffer.Length, length - position)), position, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    throw new IOException($"A partial download ended after {position} of {length} bytes while it was read.");
                }

                hash.AppendData(buffer, 0, read);
                position += read;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>Streams a whole version as one tar archive into <paramref name="destination"/>.</summary>
    public async Task DownloadArchiveAsync(ModelReference reference, Stream destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, VersionPath(reference) + "/archive");
        using var response = await SendStreamingAsync(request, cancellationToken).ConfigureAwait(false);
        using var body = new ProgressStream(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), progress);
        await body.CopyToAsync(destination, FileHasher.BufferSize, cancellationToken).ConfigureAwait(false);
    }

    private static void Check(string? problem)
    {
        if (problem is not null)
        {
            throw new ArgumentException(problem);
        }
    }
}
