using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace Berth.Cli.Tests.Support;

/// <summary>What a test may assert about a server's data folder (<c>store/blobs</c>, <c>store/uploads</c>) after a fault.</summary>
public static partial class DataFolderChecks
{
    /// <summary>
    /// The blob area holds nothing but complete blobs: every file is <c>blobs/sha256/&lt;aa&gt;/&lt;hex&gt;</c> and hashes to its
    /// name (no partial blob, no temporary file), and <c>store</c> holds only <c>blobs</c> and <c>uploads</c>. Returns the digests.
    /// The server creates the folders at start-up, so a missing one fails (the check would look in the wrong place).
    /// </summary>
    public static HashSet<string> AssertBlobAreaHoldsOnlyCompleteBlobs(string data)
    {
        var store = Path.Combine(data, "store");
        var blobs = Path.Combine(store, "blobs");
        Assert.True(Directory.Exists(blobs), $"There is no blob folder at {blobs}.");
        Assert.Equal(["blobs", "uploads"], Directory.EnumerateFileSystemEntries(store).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["sha256"], Directory.EnumerateFileSystemEntries(blobs).Select(Path.GetFileName));
        var digests = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFileSystemEntries(Path.Combine(blobs, "sha256"), "*", SearchOption.AllDirectories))
        {
            var relative = Path.GetRelativePath(Path.Combine(blobs, "sha256"), file).Replace('\\', '/');
            if (Directory.Exists(file))
            {
                Assert.Matches(BlobFolder(), relative);
                continue;
            }

            Assert.True(BlobFile().IsMatch(relative) && relative[..2] == relative[3..5], $"'{relative}' in the blob area is not a blob.");
            using var stream = File.OpenRead(file);
            Assert.True(Path.GetFileName(file) == Convert.ToHexStringLower(SHA256.HashData(stream)), $"Blob {relative} does not hash to its name.");
            digests.Add("sha256:" + Path.GetFileName(file));
        }

        return digests;
    }

    /// <summary>The upload folders (<c>store/uploads/&lt;id&gt;</c>) by id, with the bytes each holds.</summary>
    public static Dictionary<string, long> Uploads(string data)
    {
        var uploads = Path.Combine(data, "store", "uploads");
        Assert.True(Directory.Exists(uploads), $"There is no upload folder at {uploads}.");
        return Directory.EnumerateDirectories(uploads).ToDictionary(
            d => Path.GetFileName(d),
            d => Directory.EnumerateFiles(d, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length),
            StringComparer.Ordinal);
    }

    [GeneratedRegex("^[0-9a-f]{2}$")]
    private static partial Regex BlobFolder();

    [GeneratedRegex("^[0-9a-f]{2}/[0-9a-f]{64}$")]
    private static partial Regex BlobFile();
}
