using System.Diagnostics;
using Berth.Testing;
using Berth.Testing.Insight;

namespace Berth.Cli.Tests.Serving;

/// <summary>
/// The ONNX models the serve-model tests serve, made once per test process by make_models.py with Debian's python3-onnx
/// (scripts/test.sh installs it): each in a folder of its own, ready to push as a version.
/// </summary>
public static class ServingModels
{
    private static readonly Lazy<Task<string>> Made = new(MakeAsync);

    /// <summary>The folder of one model (linear, linear2, classifier, text, types), holding its model.onnx.</summary>
    public static async Task<string> FolderAsync(string name) => Path.Combine(await Made.Value, name);

    private static async Task<string> MakeAsync()
    {
        var folder = TempFolder.Create("berth-serving-models");
        var start = new ProcessStartInfo(ModelCorpus.Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Serving", "make_models.py"));
        start.ArgumentList.Add(folder);
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{ModelCorpus.Python} did not start");
        var error = process.StandardError.ReadToEndAsync();
        await process.StandardOutput.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"make_models.py failed ({process.ExitCode}); it needs Debian's python3-onnx for {ModelCorpus.Python}:\n{await error}");
        }

        return folder;
    }
}
