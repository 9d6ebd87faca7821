namespace Berth.Cli.Tests.Support;

/// <summary>A model folder on disk with deterministic pseudo-random content.</summary>
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

    public string Write(string path, int size, int seed = 0)
    {
        var full = Path.Combine(Root, path.Replace('/', Path.DirectorySeparatorChar));
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var bytes = new byte[size];
        new Random(path.Aggregate(17, (h, c) => unchecked((h * 31) + c)) ^ seed).NextBytes(bytes);
        File.WriteAllBytes(full, bytes);
        return full;
    }

    /// <summary>Asserts that <paramref name="actual"/> holds exactly the files of <paramref name="expected"/>, byte for byte.</summary>
    public static void AssertSameTree(string expected, string actual)
    {
        static List<string> Files(string root) =>
            Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f)).Order(StringComparer.Ordinal).ToList();

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
