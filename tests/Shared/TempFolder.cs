namespace Berth.Testing;

/// <summary>Temporary folders for tests, removed on a best-effort basis.</summary>
public static class TempFolder
{
    public static string Create(string prefix)
    {
        // Private (0700), as the server makes its data folder: a server started here finds nothing to tighten.
        var path = Path.Combine(Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}");
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            Directory.CreateDirectory(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return path;
    }

    public static void Delete(string path)
    {
        try
        {
            if (Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }
        catch (IOException)
        {
            // Best effort: a file still open by a dying process is not worth failing a test for.
        }
    }
}
