using System.CommandLine;
using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using Berth.Cli.Infrastructure;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth run exec acme/fraud [--name …] -- python train.py …</c>: runs a command as a training run (docs/runs.md).
/// Starts the run (params, tags, note; the git commit and dirty flag of the working folder and the host as lineage and
/// environment), runs the command with <c>BERTH_RUN_ID</c> (the run's reference), <c>BERTH_URL</c> and <c>BERTH_TOKEN</c>
/// in its environment so that a client inside logs into the same run, echoes its stdout and stderr as they come while
/// writing them to a file that is attached to the run, sends a heartbeat every <c>--heartbeat-interval</c> while it
/// runs, and ends the run by the command's exit: 0 → finished, another code → failed, a signal → killed. berth exits
/// with the command's code (128 + the signal's number for a signal, as shells do).
/// </summary>
internal static class RunExecCommand
{
    public const string RunIdVariable = "BERTH_RUN_ID";

    /// <summary>The shell's code for a command that could not be found (126: found but not runnable).</summary>
    private const int NotFound = 127;
    private const int NotRunnable = 126;

    public static Command Create(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model the run belongs to, e.g. acme/fraud (created on first use)." };
        var commandLine = new Argument<string[]>("command") { Description = "The command to run and its arguments, after '--': -- python train.py --epochs 10", Arity = ArgumentArity.OneOrMore };
        var name = new Option<string>("--name") { Description = "A name for the run." };
        var param = new Option<string[]>("--param") { Description = "A param as key=value (repeatable).", HelpName = "key=value" };
        var tag = new Option<string[]>("--tag") { Description = "A tag as key=value (repeatable).", HelpName = "key=value" };
        var note = new Option<string>("--note") { Description = "A free-text note." };
        var log = new Option<string>("--log-file") { Description = "The run file that receives the command's output.", DefaultValueFactory = _ => "output.log", HelpName = "path" };
        var noLog = new Option<bool>("--no-log") { Description = "Do not keep the command's output as a run file (it is still shown)." };
        var heartbeat = new Option<int>("--heartbeat-interval") { Description = "Seconds between heartbeats while the command runs (the server marks a silent run crashed).", DefaultValueFactory = _ => 60, HelpName = "seconds" };
        heartbeat.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 3600)
            {
                result.AddError("--heartbeat-interval must be between 1 and 3600 seconds.");
            }
        });
        var command = new Command("exec", "Run a command as a training run: the run's id, the server and the token reach it in BERTH_RUN_ID, BERTH_URL and BERTH_TOKEN; its exit status ends the run and its output is attached as a run file.")
        {
            model, commandLine, name, param, tag, note, log, noLog, heartbeat,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "run exec");
            var ns = CliContext.NamespaceOf(reference);
            var arguments = parse.GetValue(commandLine) ?? [];
            var logPath = parse.GetValue(noLog) ? null : parse.GetValue(log)!;
            if (logPath is not null && Berth.Contracts.Manifests.FilePaths.Check(logPath) is { } problem)
            {
                throw new UsageException($"--log-file: {problem}");
            }

            var server = context.Server ?? throw new CliException($"Not logged in: run 'berth login <server url> --user <name>' (or --token <token>), or set {CliContext.UrlVariable} and {CliContext.TokenVariable}.");
            var git = GitState.Detect(Environment.CurrentDirectory);
            var request = new CreateRunRequest(
                parse.GetValue(name),
                InputParser.Pairs(parse.GetValue(param), "param", "--param") is { Count: > 0 } p ? p : null,
                InputParser.Pairs(parse.GetValue(tag), "tag", "--tag") is { Count: > 0 } t ? t : null,
                parse.GetValue(note),
                git is null ? null : new RunLineage(git.Repository, git.Commit, git.Dirty),
                new Dictionary<string, string>
                {
                    ["host"] = Environment.MachineName,
                    ["os"] = RuntimeInformation.OSDescription,
                    ["command"] = Path.GetFileName(arguments[0]),
                    ["berth"] = typeof(RunExecCommand).Assembly.GetName().Version?.ToString(3) ?? "",
                });
            var run = await context.Client.CreateRunAsync(ns, reference.Model, request, cancellationToken);
            var id = $"{run.Namespace}/{run.Model}/{run.Id}";
            Console.Error.WriteLine($"berth: run {id} started: {server.TrimEnd('/')}/{Uri.EscapeDataString(run.Namespace)}/{Uri.EscapeDataString(run.Model)}/runs/{run.Id}");

            var execution = new Execution(context.Client, run, context.Token, server, TimeSpan.FromSeconds(parse.GetValue(heartbeat)));
            var outcome = await execution.RunAsync(arguments, logPath);
            var ended = await execution.EndAsync(outcome, logPath);
            if (context.Output.Json && ended is not null)
            {
                context.Output.WriteJson(ended, CliJson.Context.RunInfo);
            }

            return outcome.ExitCode;
        });
        return command;
    }

    /// <summary>How the command ended: its exit code, the status that makes for the run, and a sentence for the user.</summary>
    private sealed record Outcome(int ExitCode, string Status, string Description);

    /// <summary>One command run as a run: the child process, its output, the heartbeats and the signals berth receives meanwhile.</summary>
    private sealed class Execution(BerthClient client, RunInfo run, string? token, string server, TimeSpan heartbeatInterval)
    {
        private readonly Lock _captureLock = new();
        private readonly string _folder = Path.Combine(Path.GetTempPath(), "berth-exec-" + Guid.NewGuid().ToString("N"));
        private FileStream? _capture;
        private Process? _child;

        public async Task<Outcome> RunAsync(string[] arguments, string? logPath)
        {
            var info = new ProcessStartInfo(arguments[0])
            {
                UseShellExecute = false,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                RedirectStandardInput = false,
            };
            foreach (var argument in arguments.Skip(1))
            {
                info.ArgumentList.Add(argument);
            }

            info.Environment[RunIdVariable] = $"{run.Namespace}/{run.Model}/{run.Id}";
            info.Environment[CliContext.UrlVariable] = server;
            if (token is not null)
            {
                info.Environment[CliContext.TokenVariable] = token;
            }
            else
            {
                info.Environment.Remove(CliContext.TokenVariable);
            }

            // Its output goes through a pipe now: Python would buffer it in blocks and the echo would lag behind.
            if (!info.Environment.ContainsKey("PYTHONUNBUFFERED"))
            {
                info.Environment["PYTHONUNBUFFERED"] = "1";
            }

            if (logPath is not null)
            {
                var file = Path.Combine(_folder, logPath.Replace('/', Path.DirectorySeparatorChar));
                Directory.CreateDirectory(Path.GetDirectoryName(file)!);
                _capture = new FileStream(file, FileMode.Create, FileAccess.Write, FileShare.Read, 64 * 1024);
            }

            // Termination requests for berth are for the command: forwarded to it, and berth waits for it to end. Ctrl+C
            // (SIGINT) reaches the command from the terminal by itself (both are in its foreground process group).
            using var term = Forward(PosixSignal.SIGTERM, "TERM");
            using var hangup = Forward(PosixSignal.SIGHUP, "HUP");
            using var quit = Forward(PosixSignal.SIGQUIT, "QUIT");
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, c => c.Cancel = true);

            try
            {
                _child = Process.Start(info) ?? throw new Win32Exception($"Could not start '{arguments[0]}'.");
            }
            catch (Win32Exception e)
            {
                var code = e.NativeErrorCode == 13 ? NotRunnable : NotFound;
                var message = $"could not run '{arguments[0]}': {e.Message}";
                Output.Error(message);
                WriteCapture(System.Text.Encoding.UTF8.GetBytes($"berth: {message}\n"));
                return new Outcome(code, RunStatuses.Failed, $"the command could not be started (exit code {code})");
            }

            using var stop = new CancellationTokenSource();
            var heartbeats = HeartbeatAsync(stop.Token);
            var stdout = PumpAsync(_child.StandardOutput.BaseStream, Console.OpenStandardOutput());
            var stderr = PumpAsync(_child.StandardError.BaseStream, Console.OpenStandardError());
            await _child.WaitForExitAsync(CancellationToken.None);
            await Task.WhenAll(stdout, stderr);
            await stop.CancelAsync();
            await heartbeats;
            return Describe(_child.ExitCode);
        }

        /// <summary>Attaches the output (if kept), then ends the run with the command's status; the run as it ended, or null.</summary>
        public async Task<RunInfo?> EndAsync(Outcome outcome, string? logPath)
        {
            var reference = $"{run.Namespace}/{run.Model}/{run.Id}";
            try
            {
                if (_capture is not null && logPath is not null)
                {
                    await _capture.DisposeAsync();
                    try
                    {
                        var result = await client.UploadRunFilesAsync(run.Namespace, run.Model, run.Id, _folder, cancellationToken: CancellationToken.None);
                        Console.Error.WriteLine($"berth: the output ({TextFormat.Bytes(result.BytesTotal)}) is the run file {logPath}");
                    }
                    catch (Exception e) when (e is BerthProblemException or HttpRequestException or IOException)
                    {
                        Output.Warning($"could not attach the output to run {reference}: {e.Message}");
                    }
                }

                RunInfo? ended = null;
                try
                {
                    ended = await client.FinishRunAsync(run.Namespace, run.Model, run.Id, outcome.Status, CancellationToken.None);
                }
                catch (BerthProblemException e) when (e.Code == ErrorCodes.RunEnded.Code)
                {
                    ended = await client.GetRunAsync(run.Namespace, run.Model, run.Id, CancellationToken.None);
                    Output.Warning($"run {reference} had already ended as {ended.Status} (a client inside it, or the server after missed heartbeats), so it stays so.");
                }
                catch (Exception e) when (e is BerthProblemException or HttpRequestException)
                {
                    Output.Warning($"could not end run {reference} as {outcome.Status}: {e.Message}");
                }

                Console.Error.WriteLine($"berth: run {reference} {ended?.Status ?? outcome.Status}: {outcome.Description}");
                return ended;
            }
            finally
            {
                try
                {
                    Directory.Delete(_folder, recursive: true);
                }
                catch (DirectoryNotFoundException)
                {
                }
            }
        }

        /// <summary>0: finished; a signal (128 + n on Unix, as .NET and shells report it): killed; any other code: failed.</summary>
        private static Outcome Describe(int code)
        {
            if (code == 0)
            {
                return new Outcome(0, RunStatuses.Finished, "the command exited with 0");
            }

            if (!OperatingSystem.IsWindows() && code is > 128 and < 128 + 65)
            {
                return new Outcome(code, RunStatuses.Killed, $"the command was killed by signal {code - 128} (exit code {code})");
            }

            return new Outcome(code, RunStatuses.Failed, $"the command exited with {code}");
        }

        /// <summary>Copies one output stream of the command to berth's own, as it comes, and into the capture file.</summary>
        private async Task PumpAsync(Stream source, Stream echo)
        {
            var buffer = new byte[16 * 1024];
            int read;
            while ((read = await source.ReadAsync(buffer, CancellationToken.None)) > 0)
            {
                try
                {
                    await echo.WriteAsync(buffer.AsMemory(0, read), CancellationToken.None);
                    await echo.FlushAsync(CancellationToken.None);
                }
                catch (IOException)
                {
                    // berth's own output went away (a closed pipe): the command goes on, and its output is still kept.
                }

                WriteCapture(buffer.AsSpan(0, read));
            }
        }

        private void WriteCapture(ReadOnlySpan<byte> bytes)
        {
            lock (_captureLock)
            {
                _capture?.Write(bytes);
            }
        }

        /// <summary>A heartbeat every interval until stopped; a run that ended meanwhile stops them (and is not ended again).</summary>
        private async Task HeartbeatAsync(CancellationToken cancellationToken)
        {
            using var timer = new PeriodicTimer(heartbeatInterval);
            var warned = false;
            try
            {
                while (await timer.WaitForNextTickAsync(cancellationToken))
                {
                    try
                    {
                        await client.HeartbeatRunAsync(run.Namespace, run.Model, run.Id, cancellationToken);
                    }
                    catch (BerthProblemException e) when (e.Code == ErrorCodes.RunEnded.Code)
                    {
                        return;
                    }
                    catch (Exception e) when (e is BerthProblemException or HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
                    {
                        if (!warned)
                        {
                            Output.Warning($"a heartbeat of run {run.Namespace}/{run.Model}/{run.Id} failed ({e.Message}); the command goes on, and berth keeps trying.");
                            warned = true;
                        }
                    }
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
        }

        /// <summary>Passes a termination signal berth receives on to the command (berth itself waits for the command to end).</summary>
        private PosixSignalRegistration? Forward(PosixSignal signal, string name)
        {
            if (OperatingSystem.IsWindows())
            {
                return null;
            }

            return PosixSignalRegistration.Create(signal, context =>
            {
                context.Cancel = true;
                if (_child is { HasExited: false } child)
                {
                    using var kill = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-" + name, child.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
                    kill?.WaitForExit();
                }
            });
        }
    }

    /// <summary>The git commit of a working folder, whether it has uncommitted changes, and its origin (without credentials); null outside a repository.</summary>
    private sealed record GitState(string Commit, bool Dirty, string? Repository)
    {
        public static GitState? Detect(string folder)
        {
            var commit = Git(folder, "rev-parse", "HEAD");
            if (commit is not { Length: 40 or 64 } || !commit.All(char.IsAsciiHexDigitLower))
            {
                return null;
            }

            var status = Git(folder, "status", "--porcelain", "--untracked-files=no");
            var origin = Git(folder, "config", "--get", "remote.origin.url");
            return new GitState(commit, status is { Length: > 0 }, WithoutCredentials(origin));
        }

        private static string? WithoutCredentials(string? url)
        {
            if (string.IsNullOrEmpty(url))
            {
                return null;
            }

            return Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.UserInfo.Length > 0
                ? new UriBuilder(uri) { UserName = "", Password = "" }.Uri.ToString()
                : url;
        }

        private static string? Git(string folder, params string[] args)
        {
            try
            {
                var info = new ProcessStartInfo("git") { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = folder };
                foreach (var arg in args)
                {
                    info.ArgumentList.Add(arg);
                }

                using var git = Process.Start(info);
                if (git is null)
                {
                    return null;
                }

                var output = git.StandardOutput.ReadToEndAsync();
                git.StandardError.ReadToEnd();
                if (!git.WaitForExit(5000))
                {
                    git.Kill();
                    return null;
                }

                return git.ExitCode == 0 ? output.Result.Trim() : null;
            }
            catch (Win32Exception)
            {
                return null;
            }
        }
    }
}
