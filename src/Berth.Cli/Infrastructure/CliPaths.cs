namespace Berth.Cli.Infrastructure;

/// <summary>
/// Where the CLI keeps its files. Config: <c>$BERTH_CONFIG</c>, else <c>$XDG_CONFIG_HOME/berth/config.json</c>,
/// else <c>~/.config/berth/config.json</c>. Cache (digests of local files, open upload sessions):
/// <c>$BERTH_CACHE_DIR</c>, else <c>$XDG_CACHE_HOME/berth</c>, else <c>~/.cache/berth</c>.
/// </summary>
internal static class CliPaths
{
    public const string ConfigVariable = "BERTH_CONFIG";
    public const string CacheVariable = "BERTH_CACHE_DIR";

    public static string ConfigFile =>
        Variable(ConfigVariable) is { } explicitPath
            ? Path.GetFullPath(explicitPath)
            : Path.Combine(BaseDirectory("XDG_CONFIG_HOME", ".config", Environment.SpecialFolder.ApplicationData), "berth", "config.json");

    public static string CacheDirectory =>
        Variable(CacheVariable) is { } explicitPath
            ? Path.GetFullPath(explicitPath)
            : Path.Combine(BaseDirectory("XDG_CACHE_HOME", ".cache", Environment.SpecialFolder.LocalApplicationData), "berth");

    public static string DigestCacheFile => Path.Combine(CacheDirectory, "digests.json");

    public static string UploadResumeFile => Path.Combine(CacheDirectory, "uploads.json");

    /// <summary>A non-empty environment variable, or null.</summary>
    public static string? Variable(string name) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;

    private static string BaseDirectory(string xdgVariable, string homeFolder, Environment.SpecialFolder windowsFolder)
    {
        // The XDG base directory spec: relative paths are invalid and must be ignored.
        if (Variable(xdgVariable) is { } xdg && Path.IsPathRooted(xdg))
        {
            return xdg;
        }

        if (OperatingSystem.IsWindows())
        {
            return Environment.GetFolderPath(windowsFolder);
        }

        var home = Variable("HOME") ?? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        return Path.Combine(home, homeFolder);
    }
}
