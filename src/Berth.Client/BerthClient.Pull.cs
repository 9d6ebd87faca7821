using System.Diagnostics;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    /// <summary>
    /// Pulls a version into <paramref name="outputDirectory"/>, byte for byte: resolves the reference once
    /// (so a moving alias cannot mix two versions), checks the file list against the manifest digest,
    /// refuses paths that would leave the folder, and downloads every file verified by its digest.
    /// Files already present with the right content are kept.
    /// </summary>
    public async Task<PullResult> PullAsync(ModelReference reference, string outputDirectory, PullOptions options, IProgress<TransferProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reference);
        ArgumentNullException.ThrowIfNull(options);
        var clock = Stopwatch.StartNew();
        var version = await GetVersionAsync(reference, withFiles: true, cancellationToken).ConfigureAwait(false);
        var files = version.Files ?? [];
        if (VersionManifest.ComputeDigest(files).ToString() != version.ManifestDigest)
        {
            throw new InvalidDataException($"The file list of {version.Reference} does not match its manifest digest {version.ManifestDigest}.");
        }

        var pinned = reference with { Selector = VersionSelector.ForNumber(version.Number), HasSelector = true };
        var root = Path.GetFullPath(outputDirectory);
        var targets = files.Select(f => (File: f, Destination: Destination(root, f.Path))).ToList();
        Directory.CreateDirectory(root);

        var tracker = new ProgressTracker(progress);
        var unchanged = 0;
        var todo = targets;
        if (options.SkipUnchanged)
        {
            var existing = targets.Where(t => File.Exists(t.Destination) && new FileInfo(t.Destination).Length == t.File.Size).ToList();
            tracker.Start(TransferPhase.Hashing, existing.Sum(t => t.File.Size), existing.Count);
            var same = new HashSet<string>(StringComparer.Ordinal);
            foreach (var target in existing)
            {
                if ((await FileHasher.HashFileAsync(target.Destination, tracker, cancellationToken).ConfigureAwait(false)).ToString() == target.File.Digest)
                {
                    same.Add(target.File.Path);
                }

                tracker.FileDone();
            }

            unchanged = same.Count;
            todo = targets.Where(t => !same.Contains(t.File.Path)).ToList();
        }

        tracker.Start(TransferPhase.Downloading, todo.Sum(t => t.File.Size), todo.Count);
        await Parallel.ForEachAsync(todo, Options(options.Parallelism, cancellationToken), async (target, ct) =>
        {
            if (target.File.Size == 0)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(target.Destination)!);
                if (target.File.Digest != Digest.Compute([]).ToString())
                {
                    throw new InvalidDataException($"'{target.File.Path}' is empty but its digest is not the empty digest.");
                }

                await File.WriteAllBytesAsync(target.Destination, [], ct).ConfigureAwait(false);
            }
            else
            {
                await DownloadFileAsync(pinned, target.File, target.Destination, tracker, ct).ConfigureAwait(false);
            }

            tracker.FileDone();
        }).ConfigureAwait(false);
        tracker.Start(TransferPhase.Done, 0, 0);
        return new PullResult(version, root, todo.Count, unchanged, todo.Sum(t => t.File.Size), clock.Elapsed);
    }

    /// <summary>Where a file of a version goes under <paramref name="root"/>; throws if the path would escape it.</summary>
    internal static string Destination(string root, string path)
    {
        if (FilePaths.Check(path) is { } problem)
        {
            throw new InvalidDataException($"The server listed an unsafe path: {problem}");
        }

        var destination = Path.GetFullPath(Path.Combine(root, path));
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!destination.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new InvalidDataException($"The server listed a path outside the output folder: '{path}'.");
        }

        return destination;
    }
}
