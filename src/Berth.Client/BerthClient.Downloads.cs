using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    internal const string PartialSuffix = ".berth-partial";
    private const int MaxDownloadAttempts = 6;

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
    /// Downloads one file to <paramref name="destination"/>: through a <c>.berth-partial</c> file that a
    /// later call resumes with a Range request, hashed while written, renamed into place only when its
    /// size and SHA-256 match <paramref name="expected"/>. A mismatch deletes the partial file and throws.
    /// </summary>
    public async Task DownloadFileAsync(ModelReference reference, FileEntry expected, string destination, IProgress<long>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(expected);
        var digest = Digest.Parse(expected.Digest);
        var partial = destination + PartialSuffix;
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(destination))!);
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using (var handle = File.OpenHandle(partial, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, FileOptions.Asynchronous))
        {
            var have = RandomAccess.GetLength(handle);
            if (have > expected.Size)
            {
                RandomAccess.SetLength(handle, 0);
                have = 0;
            }

            if (have > 0)
            {
                using var existing = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0, FileOptions.SequentialScan);
                await FileHasher.AppendAsync(hash, existing, have, null, cancellationToken).ConfigureAwait(false);
                progress?.Report(have);
            }

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
                        progress?.Report(-have);
                        RandomAccess.SetLength(handle, 0);
                        hash.GetHashAndReset();
                        have = 0;
                    }

                    using var body = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
                    have += await HashingCopy.CopyAsync(body, handle, have, hash, progress, cancellationToken).ConfigureAwait(false);
                    if (have < expected.Size)
                    {
                        throw new IOException($"The download of '{expected.Path}' ended after {have} of {expected.Size} bytes.");
                    }
                }
                catch (Exception e) when (attempt < MaxDownloadAttempts && IsRetryable(e) && !cancellationToken.IsCancellationRequested)
                {
                    await Task.Delay(Backoff(attempt), cancellationToken).ConfigureAwait(false);

                    // Whatever reached the file is kept; the hash must cover exactly those bytes.
                    var length = RandomAccess.GetLength(handle);
                    if (length != have)
                    {
                        progress?.Report(-have);
                        hash.GetHashAndReset();
                        using var existing = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 0, FileOptions.SequentialScan);
                        have = await FileHasher.AppendAsync(hash, existing, length, progress, cancellationToken).ConfigureAwait(false);
                    }
                }
            }

            if (have != expected.Size)
            {
                RandomAccess.SetLength(handle, 0);
                throw new InvalidDataException($"'{expected.Path}' has {have} bytes, not the {expected.Size} the manifest lists.");
            }

            var actual = Digest.FromHash(hash.GetHashAndReset());
            if (actual != digest)
            {
                RandomAccess.SetLength(handle, 0);
                throw new InvalidDataException($"'{expected.Path}' hashes to {actual}, not {digest}: the download was corrupted and has been discarded.");
            }
        }

        File.Move(partial, destination, overwrite: true);
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
