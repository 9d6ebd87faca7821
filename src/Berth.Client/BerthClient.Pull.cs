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
    /// Files already present with the same size and SHA-256 are kept. Anything else in the way of a file
    /// (other content, a link, a folder) makes the pull throw <see cref="PullConflictException"/> before it
    /// writes anything, unless <see cref="PullOptions.Overwrite"/>; <see cref="PullOptions.Clean"/> also
    /// removes what the version does not contain. Links inside the folder are never followed (see
    /// <see cref="TargetFolder"/>). A download that breaks off (or is cancelled) leaves a
    /// <c>.berth-partial</c> file that the next pull resumes with a Range request.
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
        var folder = new TargetFolder(root);
        var overwrite = options.Overwrite || options.Clean;
        var warnings = new List<PullWarning>();
        foreach (var file in files)
        {
            Destination(root, file.Path);
            if (RiskyPaths.Check(file.Path) is { } risk)
            {
                warnings.Add(new PullWarning(PullWarning.RiskyPath, file.Path, $"'{file.Path}' is dangerous to materialise: {risk}."));
            }
        }

        // Look before writing anything: what is already there, identical or in the way.
        var tracker = new ProgressTracker(progress);
        var conflicts = new Dictionary<string, PullConflict>(StringComparer.Ordinal);
        var toHash = new List<FileEntry>();
        var todo = new List<FileEntry>();
        foreach (var file in files)
        {
            var (kind, blocker, blockerKind) = folder.Inspect(file.Path);
            if (blocker is not null)
            {
                conflicts.TryAdd(blocker, new PullConflict(blocker, $"{TargetFolder.Describe(blockerKind)} where the version has a folder (of '{file.Path}')"));
                todo.Add(file);
            }
            else if (kind == EntryKind.Missing)
            {
                todo.Add(file);
            }
            else if (kind != EntryKind.File)
            {
                conflicts.TryAdd(file.Path, new PullConflict(file.Path, $"{TargetFolder.Describe(kind)} where the version has a file"));
                todo.Add(file);
            }
            else if (new FileInfo(folder.Full(file.Path)).Length != file.Size)
            {
                conflicts.TryAdd(file.Path, new PullConflict(file.Path, $"differs: {new FileInfo(folder.Full(file.Path)).Length} bytes, the version's file has {file.Size}"));
                todo.Add(file);
            }
            else
            {
                toHash.Add(file);
            }
        }

        var unchanged = 0;
        if (toHash.Count > 0)
        {
            tracker.Start(TransferPhase.Hashing, toHash.Sum(f => f.Size), toHash.Count);
            foreach (var file in toHash)
            {
                var same = file.Size == 0
                    ? file.Digest == EmptyDigest
                    : (await FileHasher.HashFileAsync(folder.Full(file.Path), tracker, cancellationToken).ConfigureAwait(false)).ToString() == file.Digest;
                if (same)
                {
                    unchanged++;
                }
                else
                {
                    conflicts.TryAdd(file.Path, new PullConflict(file.Path, "differs: same size, other content (SHA-256)"));
                    todo.Add(file);
                }

                tracker.FileDone();
            }
        }

        if (conflicts.Count > 0 && !overwrite)
        {
            throw new PullConflictException(root, version.Reference, [.. conflicts.Values.OrderBy(c => c.Path, StringComparer.Ordinal)]);
        }

        IReadOnlyList<string> removed = [];
        if (options.Clean)
        {
            var keep = new HashSet<string>(StringComparer.Ordinal);
            foreach (var file in files)
            {
                keep.Add(file.Path);
                for (var slash = file.Path.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = file.Path.IndexOf('/', slash + 1))
                {
                    keep.Add(file.Path[..slash]);
                }
            }

            foreach (var file in todo)
            {
                keep.Add(file.Path + PartialSuffix);
            }

            removed = folder.RemoveAllBut(keep);
        }

        // A folder where a file goes is removed now (renaming a file over it cannot); files and links in the way
        // are replaced by the rename that ends each download, and parents by EnsureParents.
        foreach (var file in todo)
        {
            if (TargetFolder.KindOf(folder.Full(file.Path)) == EntryKind.Directory && folder.Inspect(file.Path).Blocker is null)
            {
                TargetFolder.Remove(folder.Full(file.Path));
            }
        }

        Directory.CreateDirectory(root);
        var fetched = 0L;
        var resumed = 0L;
        if (todo.Count > 0)
        {
            tracker.Start(TransferPhase.Downloading, todo.Sum(f => f.Size), todo.Count);
            await Parallel.ForEachAsync(todo, Options(options.Parallelism, cancellationToken), async (file, ct) =>
            {
                folder.EnsureParents(file.Path, overwrite);
                var outcome = await DownloadCoreAsync(pinned, file, folder.Full(file.Path), tracker, ct).ConfigureAwait(false);
                Interlocked.Add(ref fetched, outcome.Fetched);
                Interlocked.Add(ref resumed, outcome.Resumed);
                if (outcome.Discarded > 0)
                {
                    lock (warnings)
                    {
                        warnings.Add(new PullWarning(PullWarning.PartialDiscarded, file.Path,
                            $"the partial download of '{file.Path}' ({outcome.Discarded} bytes, left by an earlier pull) did not verify: it was discarded and the file downloaded again."));
                    }
                }

                tracker.FileDone();
            }).ConfigureAwait(false);
        }

        tracker.Start(TransferPhase.Done, 0, 0);
        return new PullResult(version, root, todo.Count, unchanged, todo.Sum(f => f.Size), fetched, resumed, removed, warnings, clock.Elapsed);
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
