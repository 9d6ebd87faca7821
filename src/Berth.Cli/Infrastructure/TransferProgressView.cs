using Berth.Client.Transfers;
using Spectre.Console;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// Shows the SDK's <see cref="TransferProgress"/> as Spectre progress bars on stderr: one bar per phase
/// (hashing, uploading, downloading) with bytes, rate and time left. Used only when
/// <see cref="Output.ShowProgress"/>; otherwise transfers run silently.
/// </summary>
internal sealed class TransferProgressView : IProgress<TransferProgress>
{
    private readonly ProgressContext _context;
    private readonly Lock _gate = new();
    private ProgressTask? _task;
    private TransferProgress? _current;

    private TransferProgressView(ProgressContext context) => _context = context;

    /// <summary>Runs <paramref name="transfer"/> with progress bars when a person is watching, silently otherwise.</summary>
    public static async Task<T> RunAsync<T>(Output output, Func<IProgress<TransferProgress>?, Task<T>> transfer)
    {
        if (!output.ShowProgress)
        {
            return await transfer(null);
        }

        return await output.ErrorConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(
                new TaskDescriptionColumn { Alignment = Justify.Left },
                new ProgressBarColumn(),
                new PercentageColumn(),
                new DownloadedColumn(),
                new TransferSpeedColumn(),
                new RemainingTimeColumn(),
                new SpinnerColumn())
            .StartAsync(async context =>
            {
                var view = new TransferProgressView(context);
                var result = await transfer(view);
                view.Finish();
                return result;
            });
    }

    public void Report(TransferProgress value)
    {
        lock (_gate)
        {
            if (value.Phase is TransferPhase.Done or TransferPhase.Committing)
            {
                // Committing is one quick call: a bar with bytes and a rate would only mislead.
                Finish();
                return;
            }

            if (_task is null || _current is null || _current.Phase != value.Phase || _current.BytesTotal != value.BytesTotal || _current.FilesTotal != value.FilesTotal)
            {
                Finish();
                _task = _context.AddTask(Describe(value), autoStart: true, maxValue: Math.Max(1, value.BytesTotal));
            }

            _current = value;
            _task.Description = Describe(value);
            _task.Value = value.BytesTotal == 0 ? 0 : Math.Clamp(value.BytesDone, 0, value.BytesTotal);
        }
    }

    private void Finish()
    {
        lock (_gate)
        {
            if (_task is { IsFinished: false } task)
            {
                task.Value = task.MaxValue;
                task.StopTask();
            }

            _task = null;
            _current = null;
        }
    }

    private static string Describe(TransferProgress value) => value.Phase switch
    {
        TransferPhase.Hashing => $"Hashing {value.FilesDone}/{value.FilesTotal} files",
        TransferPhase.Uploading => value.FilesTotal == 0 ? "Uploading: nothing to send" : $"Uploading {value.FilesDone}/{value.FilesTotal} files",
        TransferPhase.Downloading => value.FilesTotal == 0 ? "Downloading: nothing to fetch" : $"Downloading {value.FilesDone}/{value.FilesTotal} files",
        _ => value.Phase.ToString(),
    };
}
