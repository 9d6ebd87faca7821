using System.Text.Json;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// Reads and writes the config file. It holds an API token, so it is created readable by its owner
/// only (0600, in a 0700 folder), written atomically, and its mode is checked after every write.
/// </summary>
internal sealed class ConfigStore(string path)
{
    private const UnixFileMode OwnerOnlyFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode OwnerOnlyFolder = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public string Path { get; } = path;

    /// <summary>The saved config; an empty one when there is no file.</summary>
    public CliConfig Load()
    {
        string text;
        try
        {
            text = File.ReadAllText(Path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return new CliConfig();
        }

        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(Path) & ~OwnerOnlyFile) != 0)
        {
            Output.Warning($"{Path} holds an API token but others can read it; changing its mode to 0600.");
            File.SetUnixFileMode(Path, OwnerOnlyFile);
        }

        try
        {
            return JsonSerializer.Deserialize(text, CliJson.Context.CliConfig) ?? new CliConfig();
        }
        catch (JsonException e)
        {
            throw new CliException($"The config file {Path} is not valid JSON ({e.Message}). Fix it, or delete it and run 'berth login' again.");
        }
    }

    public void Save(CliConfig config)
    {
        var folder = System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!;
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(folder);
        }
        else
        {
            Directory.CreateDirectory(folder, OwnerOnlyFolder);
        }

        var temporary = $"{Path}.{Environment.ProcessId}.tmp";
        File.Delete(temporary);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = OwnerOnlyFile;
        }

        try
        {
            using (var file = new FileStream(temporary, options))
            {
                JsonSerializer.Serialize(file, config, CliJson.Context.CliConfig);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, Path, overwrite: true);
        }
        finally
        {
            File.Delete(temporary);
        }

        EnsureOwnerOnly();
    }

    public bool Delete()
    {
        if (!File.Exists(Path))
        {
            return false;
        }

        File.Delete(Path);
        return true;
    }

    /// <summary>UnixCreateMode is filtered by the umask and ignored for existing files: check, and fix.</summary>
    private void EnsureOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        if (File.GetUnixFileMode(Path) != OwnerOnlyFile)
        {
            File.SetUnixFileMode(Path, OwnerOnlyFile);
        }

        if (File.GetUnixFileMode(Path) != OwnerOnlyFile)
        {
            throw new CliException($"Could not make {Path} readable by its owner only.");
        }
    }
}
