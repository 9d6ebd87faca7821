using System.Diagnostics;

namespace Berth.Testing.Insight;

/// <summary>
/// Model files made by the real libraries at test time (make_corpus.py, run once per test process by Debian's
/// /usr/bin/python3 with python3-torch, python3-sklearn, python3-numpy, python3-onnx, python3-joblib and python3-h5py,
/// which scripts/test.sh installs when missing): benign checkpoints, estimators, arrays, ONNX graphs, and malicious
/// pickles built on purpose (never loaded).
/// </summary>
public static class ModelCorpus
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<Task<string>> Made = new(MakeAsync);

    /// <summary>The folder holding the corpus (made on first use).</summary>
    public static Task<string> FolderAsync() => Made.Value;

    public static async Task<string> FileAsync(string relative) => Path.Combine(await FolderAsync(), relative);

    private static async Task<string> MakeAsync()
    {
        var folder = TempFolder.Create("berth-corpus");
        var script = Path.Combine(AppContext.BaseDirectory, "Insight", "make_corpus.py");
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add(folder);
        start.Environment["PYTHONDONTWRITEBYTECODE"] = "1";
        start.Environment["OMP_NUM_THREADS"] = "1";
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{Python} did not start");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"make_corpus.py failed ({process.ExitCode}); it needs Debian's python3-torch, python3-sklearn, python3-numpy, python3-onnx, " +
                $"python3-joblib and python3-h5py for {Python} (scripts/test.sh installs them):\n{await error}\n{await output}");
        }

        return folder;
    }
}
