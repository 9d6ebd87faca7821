using System.Security.Cryptography;

namespace Berth.Api.Tests.Support;

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
        File.WriteAllBytes(full, Bytes(size, path.GetHashCode(StringComparison.Ordinal) ^ seed));
        return full;
    }

    public static byte[] Bytes(int size, int seed)
    {
        var bytes = new byte[size];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }

    public static string Sha256(byte[] bytes) => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(bytes));

    public void Dispose() => TempFolder.Delete(Root);
}
