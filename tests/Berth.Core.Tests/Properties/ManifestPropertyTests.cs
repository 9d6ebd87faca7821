using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using CsCheck;

namespace Berth.Core.Tests.Properties;

/// <summary>
/// The canonical manifest (docs/api.md, "Pulling a version"): its bytes, and so the version's digest, depend on the set
/// of files only, never on the order they were listed in; it is JSON that reads back to exactly those files, sorted by
/// path; and file paths keep the promises of the path rules (NFC, no collisions, a lossless trip through JSON and URLs).
/// </summary>
public sealed class ManifestPropertyTests
{
    private static readonly string[] PathPieces =
    [
        "a", "B", "model", ".bin", "/", "_", "-", " x", "\u00E9", "e\u0301", "\u00DF", "SS", "\u212A", "k", "\u6A21", "\uD83D\uDE00", "\u0130", "\u03A3", "\u03C2",
        "\u202E", "\u200B", "\uD800", ".", "..", "\\", ":", "%2F", "%", "#", "?", "CON", "nul.txt", "\t", "\0",
    ];

    /// <summary>Pieces of names a version may hold, with the pairs that collide on macOS or Windows.</summary>
    private static readonly string[] PortablePieces = ["a", "B", "b", "model", ".bin", "/", "_", "-", " x", "\u00E9", "\u00DF", "SS", "k", "K", "\u6A21", "\uD83D\uDE00", "\u03A3", "\u03C2", "%2F", "#"];

    /// <summary>File sets a version may hold: their paths pass the rules for new versions.</summary>
    private static readonly Gen<FileEntry[]> Version = Gen.Select(
            Generated.Joined(PortablePieces, 1, 4).Where(p => FilePaths.CheckPortable(p) is null), Gen.Long[0, long.MaxValue], Generated.From(Grammar.Hex, 64, 64), Gen.OneOf<string?>(null, "application/octet-stream", "text/x-\u00E9\"q"),
            (path, size, hex, media) => new FileEntry(path, size, "sha256:" + hex, media))
        .Array[1, 6]
        .Select(files => files.DistinctBy(f => f.Path, StringComparer.Ordinal).ToArray())
        .Where(files => FilePaths.Validate(files.Select(f => f.Path)) is null);

    [Fact]
    public void TheManifestDependsOnTheSetOfFilesNotOnTheirOrder()
    {
        Gen.Select(Version, Gen.Int).Sample((files, seed) =>
        {
            var shuffled = files.OrderBy(_ => new Random(seed).Next()).Reverse().ToArray();
            Assert.Equal(VersionManifest.Serialize(files), VersionManifest.Serialize(shuffled));
            Assert.Equal(VersionManifest.ComputeDigest(files), VersionManifest.ComputeDigest(shuffled));
        }, iter: Generated.Iterations, threads: Generated.Threads, print: t => Print(t.Item1));
    }

    [Fact]
    public void TheManifestReadsBackToTheSameFilesSortedByPath()
    {
        Version.Sample(files =>
        {
            using var manifest = JsonDocument.Parse(VersionManifest.Serialize(files));
            var root = manifest.RootElement;
            Assert.Equal(1, root.GetProperty("schemaVersion").GetInt32());
            Assert.Equal(VersionManifest.MediaType, root.GetProperty("mediaType").GetString());
            var read = root.GetProperty("files").EnumerateArray().Select(f => new FileEntry(
                f.GetProperty("path").GetString()!,
                f.GetProperty("size").GetInt64(),
                f.GetProperty("digest").GetString()!,
                f.TryGetProperty("mediaType", out var media) ? media.GetString() : null)).ToList();
            Assert.Equal(files.OrderBy(f => f.Path, StringComparer.Ordinal), read);
            Assert.Equal(4, root.EnumerateObject().Count() + 1);
        }, iter: Generated.Iterations, threads: Generated.Threads, print: Print);
    }

    [Fact]
    public void DifferentFileSetsHaveDifferentManifests()
    {
        Gen.Select(Version, Version).Sample((a, b) =>
        {
            var same = a.OrderBy(f => f.Path, StringComparer.Ordinal).SequenceEqual(b.OrderBy(f => f.Path, StringComparer.Ordinal));
            Assert.Equal(same, VersionManifest.Serialize(a).AsSpan().SequenceEqual(VersionManifest.Serialize(b)));
        }, iter: Generated.Iterations, threads: Generated.Threads);
    }

    [Fact]
    public void AnAcceptedPathIsNfcValidUnicodeAndSurvivesJsonAndUrls()
    {
        Generated.Joined(PathPieces, 1, 8).Sample(path =>
        {
            if (FilePaths.CheckPortable(path) is not null)
            {
                return;
            }

            Assert.Equal(path, FilePaths.Normalize(path));
            Assert.Equal(path, System.Text.Encoding.UTF8.GetString(new System.Text.UTF8Encoding(false, throwOnInvalidBytes: true).GetBytes(path)));
            Assert.Equal(path, JsonSerializer.Deserialize<string>(JsonSerializer.Serialize(path)));
            Assert.Equal(path, Uri.UnescapeDataString(string.Join('/', path.Split('/').Select(Uri.EscapeDataString))));
            Assert.Null(FilePaths.Check(path));
        }, iter: Generated.Iterations * 2, threads: Generated.Threads, print: Generated.Show);
    }

    [Fact]
    public void NoTwoPathsOfAnAcceptedVersionAreEqualIgnoringCaseOrUnicodeForm()
    {
        Version.Sample(files =>
        {
            var paths = files.Select(f => f.Path).ToList();
            Assert.Equal(paths.Count, paths.Select(FilePaths.CollisionKey).Distinct(StringComparer.Ordinal).Count());
            // .NET's own case mapping as a second opinion (the paths are NFC, so canonical forms compare as they are).
            Assert.Equal(paths.Count, paths.Distinct(StringComparer.OrdinalIgnoreCase).Count());
            Assert.Equal(paths.Count, paths.Select(p => p.ToUpperInvariant()).Distinct(StringComparer.Ordinal).Count());
        }, iter: Generated.Iterations, threads: Generated.Threads, print: Print);
    }

    [Fact]
    public void CheckingAnyTextNeverThrowsAndNormalizingItGivesNfc()
    {
        Gen.Frequency((3, Generated.Joined(PathPieces, 0, 10)), (1, Generated.AnyText)).Array[1, 5].Sample(paths =>
        {
            foreach (var path in paths)
            {
                _ = FilePaths.Check(path);
                _ = FilePaths.CheckPortable(path);
                var normal = FilePaths.Normalize(path);
                if (!HasLoneSurrogate(path))
                {
                    Assert.True(UnicodeNormalization.IsNfc(normal), Generated.Show(path));
                    Assert.Equal(normal, FilePaths.Normalize(normal));
                }
            }

            var problem = FilePaths.Validate(paths);
            Assert.True(problem is null || (problem.Paths.Count > 0 && problem.Paths.All(p => paths.Contains(p, StringComparer.Ordinal))));
        }, iter: Generated.Iterations, threads: Generated.Threads, print: p => string.Join(", ", p.Select(Generated.Show)));
    }

    private static bool HasLoneSurrogate(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsSurrogate(text[i]) && !char.IsSurrogatePair(text, i++))
            {
                return true;
            }
        }

        return false;
    }

    private static string Print(FileEntry[] files) => string.Join(", ", files.Select(f => Generated.Show(f.Path)));
}
