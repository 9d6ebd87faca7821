using System.Security.Cryptography;

namespace Berth.Testing;

/// <summary>A model folder on disk with deterministic pseudo-random content, deleted on dispose.</summary>
public sealed class ModelFolder : IDisposable
{
    public ModelFolder(params (string Path, int Size)[] files)
    {
        Root = TempFolder.Create("berth-model");
        foreach (var (path, size) in files)
        {
            Write(path, size);
        }
    }

    public string Root { get; }

    /// <summary>Writes <paramref name="size"/> bytes determined by the path and <paramref name="seed"/>.</summary>
    public string Write(string path, int size, int seed = 0)
    {
        var full = Path.Combine(Root, path.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        File.WriteAllBytes(full, Bytes(size, path.Aggregate(17, (h, c) => unchecked((h * 31) + c)) ^ seed));
        return full;
    }

    public static byte[] Bytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>The distinct digests of the folder's files.</summary>
    public IReadOnlySet<string> Digests() =>
        Directory.EnumerateFiles(Root, "*", SearchOption.AllDirectories).Select(f => Sha256(File.ReadAllBytes(f))).ToHashSet();

    /// <summary>Asserts that <paramref name="actual"/> holds exactly the files of <paramref name="expected"/>, byte for byte.</summary>
    public static void AssertSameTree(string expected, string actual)
    {
        static List<string> Files(string root) =>
            Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
                .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
                .Order(StringComparer.Ordinal)
                .ToList();

        var expectedFiles = Files(expected);
        Assert.Equal(expectedFiles, Files(actual));
        foreach (var file in expectedFiles)
        {
            Assert.True(
                File.ReadAllBytes(Path.Combine(expected, file)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(actual, file))),
                $"'{file}' differs between {expected} and {actual}.");
        }
    }

    public void Dispose() => TempFolder.Delete(Root);
}
