using System.Text.Json;

namespace Berth.Cli.Tests.Support;

/// <summary>What one run of <c>berth</c> did.</summary>
public sealed record CliResult(IReadOnlyList<string> Args, int ExitCode, string Stdout, string Stderr)
{
    /// <summary>stdout parsed as JSON (fails the test with the output if it is not JSON).</summary>
    public JsonElement Json
    {
        get
        {
            try
            {
                using var document = JsonDocument.Parse(Stdout);
                return document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new Xunit.Sdk.XunitException($"stdout of {this} is not JSON: {e.Message}");
            }
        }
    }

    /// <summary>Asserts exit code 0 and an empty stderr (no progress, no warnings when not on a terminal).</summary>
    public CliResult Succeeded()
    {
        Assert.True(ExitCode == 0, $"Expected success: {this}");
        Assert.True(Stderr.Length == 0, $"Expected an empty stderr: {this}");
        return this;
    }

    /// <summary>Asserts the exit code, nothing on stdout, and one 'error:' line that contains <paramref name="contains"/>.</summary>
    public CliResult Failed(int exitCode, string contains)
    {
        Assert.True(ExitCode == exitCode, $"Expected exit code {exitCode}: {this}");
        Assert.True(Stdout.Length == 0, $"Expected an empty stdout: {this}");
        Assert.StartsWith("error: ", Stderr, StringComparison.Ordinal);
        Assert.Contains(contains, Stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", Stderr, StringComparison.Ordinal);
        return this;
    }

    public override string ToString() =>
        $"berth {string.Join(' ', Args)} → exit {ExitCode}\n--- stdout ---\n{Stdout}\n--- stderr ---\n{Stderr}";
}
