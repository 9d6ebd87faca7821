using System.Diagnostics;
using System.Threading.Channels;

namespace Berth.Cli.Tests.Support;

/// <summary>
/// A berth process that runs until it is stopped (<c>berth events --follow</c>). Its stdout and stderr are read line
/// by line as they arrive, so a test waits on output rather than sleeping. Disposing kills it if it still runs.
/// </summary>
public sealed class RunningCli : IAsyncDisposable
{
    // As long as a server's start may take (ServerProcess.StartupDeadline): a first start migrates and creates the
    // administrator before its first line, which took over 30 s on a loaded 2-core machine.
    private static readonly TimeSpan LineDeadline = TimeSpan.FromSeconds(90);
    private readonly Process _process;
    private readonly IReadOnlyList<string> _args;
    private readonly Channel<string> _stdout = Channel.CreateUnbounded<string>();
    private readonly Channel<string> _stderr = Channel.CreateUnbounded<string>();

    private RunningCli(Process process, IReadOnlyList<string> args)
    {
        _process = process;
        _args = args;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>The process id (berth's own: <c>env</c> replaces itself with it).</summary>
    public int ProcessId => _process.Id;

    /// <summary>
    /// Starts <paramref name="info"/> with SIGINT at its default action, as a program started at a terminal has it
    /// (a test runner started in the background may ignore SIGINT, and children inherit that).
    /// </summary>
    public static RunningCli Start(ProcessStartInfo info, IReadOnlyList<string> args)
    {
        info.ArgumentList.Insert(0, info.FileName);
        info.ArgumentList.Insert(0, "--default-signal=INT");
        info.FileName = "/usr/bin/env";
        var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}.");
        var running = new RunningCli(process, args);
        process.OutputDataReceived += (_, e) => Forward(running._stdout, e.Data);
        process.ErrorDataReceived += (_, e) => Forward(running._stderr, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        process.StandardInput.Close();
        return running;
    }

    /// <summary>The next line of stdout; fails if none comes within <see cref="LineDeadline"/> or the output ends.</summary>
    public Task<string> ReadLineAsync() => ReadAsync(_stdout, "stdout");

    /// <summary>The next line of stderr; fails if none comes within <see cref="LineDeadline"/> or the output ends.</summary>
    public Task<string> ReadErrorLineAsync() => ReadAsync(_stderr, "stderr");

    /// <summary>Sends SIGINT, what Ctrl+C sends.</summary>
    public async Task InterruptAsync()
    {
        using var kill = Process.Start("kill", ["-INT", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Sends a signal by name (TERM, HUP …) to berth alone, as a job scheduler or <c>kill</c> does.</summary>
    public async Task SignalAsync(string signal)
    {
        using var kill = Process.Start("kill", ["-" + signal, _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        await kill.WaitForExitAsync(TestContext.Current.CancellationToken);
        Assert.Equal(0, kill.ExitCode);
    }

    /// <summary>Kills the process with SIGKILL (no chance to clean up, as a crash or an OOM kill) and waits for it.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
    }

    /// <summary>Waits for the process to end; returns its exit code and the lines not read yet.</summary>
    public async Task<(int ExitCode, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr)> WaitForExitAsync()
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(ProcessRunner.Timeout);
        await _process.WaitForExitAsync(deadline.Token);
        return (_process.ExitCode, Rest(_stdout), Rest(_stderr));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
    }

    private async Task<string> ReadAsync(Channel<string> lines, string stream)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(LineDeadline);
        try
        {
            return await lines.Reader.ReadAsync(deadline.Token);
        }
        catch (ChannelClosedException)
        {
            await _process.WaitForExitAsync(TestContext.Current.CancellationToken);
            throw new Xunit.Sdk.XunitException($"berth {string.Join(' ', _args)} ended (exit {_process.ExitCode}) before writing another line to {stream}; stderr: {string.Join('\n', Rest(_stderr))}");
        }
        catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"berth {string.Join(' ', _args)} wrote no line to {stream} within {LineDeadline}.");
        }
    }

    private static void Forward(Channel<string> lines, string? line)
    {
        if (line is null)
        {
            lines.Writer.TryComplete();
        }
        else
        {
            lines.Writer.TryWrite(line);
        }
    }

    private static List<string> Rest(Channel<string> lines)
    {
        var rest = new List<string>();
        while (lines.Reader.TryRead(out var line))
        {
            rest.Add(line);
        }

        return rest;
    }
}
