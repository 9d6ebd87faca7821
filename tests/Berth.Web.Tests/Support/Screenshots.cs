using Microsoft.Playwright;

namespace Berth.Web.Tests.Support;

/// <summary>
/// Where the tests save their screenshots: <c>artifacts/test-results/screenshots/&lt;database&gt;/&lt;test&gt;/</c> in the
/// repository (scripts/test.sh empties artifacts/test-results before a run), or BERTH_TEST_SCREENSHOTS.
/// </summary>
public static class Screenshots
{
    private static readonly (ColorScheme Scheme, string SchemeName, int Width, string WidthName)[] All =
    [
        (ColorScheme.Light, "light", 1280, "desktop"),
        (ColorScheme.Light, "light", 375, "phone"),
        (ColorScheme.Dark, "dark", 1280, "desktop"),
        (ColorScheme.Dark, "dark", 375, "phone"),
    ];

    /// <summary>The colour schemes and widths each checked page is saved in: light desktop and dark phone, or all four.</summary>
    public static IReadOnlyList<(ColorScheme Scheme, string SchemeName, int Width, string WidthName)> Variants { get; } =
        Environment.GetEnvironmentVariable("BERTH_TEST_SCREENSHOTS_ALL") is "1" or "true" ? All : [All[0], All[3]];

    public static string Folder(string test)
    {
        var root = Environment.GetEnvironmentVariable("BERTH_TEST_SCREENSHOTS") is { Length: > 0 } configured
            ? configured
            : Path.Combine(RepositoryRoot(), "artifacts", "test-results", "screenshots");
        var database = Environment.GetEnvironmentVariable("BERTH_TEST_POSTGRES") is { Length: > 0 } ? "postgres" : "sqlite";
        var folder = Path.Combine(root, database, test);
        Directory.CreateDirectory(folder);
        return folder;
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Berth.slnx")))
            {
                return dir.FullName;
            }
        }

        return Path.Combine(Path.GetTempPath(), "berth-ui-tests");
    }
}
