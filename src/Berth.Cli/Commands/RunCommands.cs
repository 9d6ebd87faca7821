using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth run start|log|finish|show|files|register|compare|exec</c> and <c>berth runs</c>: training runs (docs/runs.md). A run is
/// named by its reference <c>namespace/model/id</c>, which <c>berth run start</c> prints.
/// </summary>
internal static class RunCommands
{
    public static IEnumerable<Command> Create(CliApp app)
    {
        var run = new Command("run", "Training runs: start one (or run a command as one), log metrics into it, finish it, show and compare runs, upload their files, register one as a version.");
        run.Subcommands.Add(Start(app));
        run.Subcommands.Add(Log(app));
        run.Subcommands.Add(Finish(app));
        run.Subcommands.Add(Show(app));
        run.Subcommands.Add(Files(app));
        run.Subcommands.Add(Register(app));
        run.Subcommands.Add(RunCompareCommand.Create(app));
        run.Subcommands.Add(RunExecCommand.Create(app));
        return [run, List(app)];
    }

    private static Command Start(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud (created on first use)." };
        var name = new Option<string>("--name") { Description = "A name for the run." };
        var param = new Option<string[]>("--param") { Description = "A param as key=value (repeatable)." };
        var tag = new Option<string[]>("--tag") { Description = "A tag as key=value (repeatable)." };
        var note = new Option<string>("--note") { Description = "A free-text note." };
        var command = new Command("start", "Start a run of a model; prints its reference namespace/model/id.") { model, name, param, tag, note };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "run start");
            var request = new CreateRunRequest(
                parse.GetValue(name),
                InputParser.Pairs(parse.GetValue(param), "param", "--param") is { Count: > 0 } p ? p : null,
                InputParser.Pairs(parse.GetValue(tag), "tag", "--tag") is { Count: > 0 } t ? t : null,
                parse.GetValue(note));
            var created = await context.Client.CreateRunAsync(CliContext.NamespaceOf(reference), reference.Model, request, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(created, CliJson.Context.RunInfo);
            }
            else
            {
                context.Output.Line(Reference(created));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Log(CliApp app)
    {
        var run = RunArgument();
        var pairs = new Argument<string[]>("key=value") { Description = "Metrics to log, e.g. loss=0.3 (NaN, Infinity and -Infinity are values too).", Arity = ArgumentArity.OneOrMore };
        var step = new Option<long?>("--step") { Description = "The step of the points (default: one past the metric's last step, or 0)." };
        var command = new Command("log", "Log metric values into a running run.") { run, pairs, step };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model, id) = Parse(context, parse.GetValue(run)!);
            var values = new List<(string Key, double Value)>();
            foreach (var text in parse.GetValue(pairs) ?? [])
            {
                var equals = text.IndexOf('=', StringComparison.Ordinal);
                if (equals <= 0 || !double.TryParse(text.AsSpan(equals + 1), NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
                {
                    throw new UsageException($"'{text}': write key=number, e.g. loss=0.3.");
                }

                var key = text[..equals];
                if (Names.CheckKey("metric", key) is { } problem)
                {
                    throw new UsageException(problem);
                }

                values.Add((key, value));
            }

            long? explicitStep = parse.GetValue(step);
            var summaries = explicitStep is null ? (await context.Client.GetRunAsync(ns, model, id, cancellationToken)).Metrics : null;
            var points = values.Select(v => new MetricPointInput(v.Key,
                explicitStep ?? (summaries!.TryGetValue(v.Key, out var s) ? s.LastStep + 1 : 0), v.Value)).ToList();
            var result = await context.Client.LogMetricsAsync(ns, model, id, new MetricBatch(points, Guid.NewGuid().ToString("N")), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Context.MetricBatchResult);
            }
            else
            {
                context.Output.Line(string.Join(", ", points.Select(p => $"{p.Key}={p.Value.ToString("R", CultureInfo.InvariantCulture)} at step {p.Step.ToString(CultureInfo.InvariantCulture)}")));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Finish(CliApp app)
    {
        var run = RunArgument();
        var status = new Option<string>("--status") { Description = "How the run ended: finished (default), failed or killed." };
        status.AcceptOnlyFromAmong(RunStatuses.Finished, RunStatuses.Failed, RunStatuses.Killed);
        var command = new Command("finish", "End a running run.") { run, status };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model, id) = Parse(context, parse.GetValue(run)!);
            var ended = await context.Client.FinishRunAsync(ns, model, id, parse.GetValue(status), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(ended, CliJson.Context.RunInfo);
            }
            else
            {
                context.Output.Line($"{Reference(ended)}: {ended.Status}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CliApp app)
    {
        var run = RunArgument();
        var command = new Command("show", "Show a run: status, times, params, tags, lineage and each metric's last, min and max.") { run };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model, id) = Parse(context, parse.GetValue(run)!);
            var found = await context.Client.GetRunAsync(ns, model, id, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(found, CliJson.Context.RunInfo);
                return ExitCodes.Success;
            }

            context.Output.Title($"{Reference(found)}{(found.Name is null ? "" : $" ({found.Name})")}: {found.Status}");
            context.Output.Fields(
            [
                ("started", TextFormat.Time(found.StartedAt)),
                ("ended", found.EndedAt is { } ended ? TextFormat.Time(ended) : null),
                ("by", found.CreatedBy),
                ("params", found.Params.Count > 0 ? TextFormat.Pairs(found.Params) : null),
                ("tags", found.Tags.Count > 0 ? TextFormat.Pairs(found.Tags) : null),
                ("git", found.Lineage.GitCommit is { } commit ? commit + (found.Lineage.GitDirty == true ? " (dirty)" : "") : null),
                ("note", found.Note),
                ("versions", found.Versions is { Count: > 0 } produced ? TextFormat.List(produced.Select(v => v.Number.ToString(CultureInfo.InvariantCulture) + (v.SemVer is { } sv ? $" ({sv})" : ""))) : null),
            ], indent: 2);
            if (found.Metrics.Count > 0)
            {
                context.Output.Table(
                    ["METRIC", "LAST", "STEP", "MIN", "MAX", "POINTS"],
                    found.Metrics.Select(m => (IReadOnlyList<string>)
                    [
                        m.Key, Number(m.Value.Last), m.Value.LastStep.ToString(CultureInfo.InvariantCulture),
                        m.Value.Min is { } min ? Number(min) : "-", m.Value.Max is { } max ? Number(max) : "-",
                        m.Value.Count.ToString(CultureInfo.InvariantCulture),
                    ]),
                    indent: 2);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Files(CliApp app)
    {
        var run = RunArgument();
        var source = new Argument<string?>("path") { Description = "A folder (or one file) to upload as the run's files; without it, list the run's files.", Arity = ArgumentArity.ZeroOrOne };
        var parallel = new Option<int>("--parallel", "-p") { Description = "Files uploaded at the same time.", DefaultValueFactory = _ => 4 };
        parallel.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 64)
            {
                result.AddError("--parallel must be between 1 and 64.");
            }
        });
        var command = new Command("files", "Upload a folder or file as a run's files (checkpoints, plots, logs: only what the server lacks, resumable), or list them.") { run, source, parallel };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model, id) = Parse(context, parse.GetValue(run)!);
            var path = parse.GetValue(source);
            if (path is null)
            {
                var files = await context.Client.ListRunFilesAsync(ns, model, id, cancellationToken).ToListAsync(cancellationToken);
                if (context.Output.Json)
                {
                    context.Output.WriteJson(files, CliJson.Context.ListRunFileInfo);
                }
                else if (files.Count == 0)
                {
                    context.Output.Line("No files.");
                }
                else
                {
                    context.Output.Table(["PATH", "SIZE", "DIGEST", "ATTACHED"],
                        files.Select(f => (IReadOnlyList<string>)[f.Path, TextFormat.Bytes(f.Size), f.Digest, TextFormat.Time(f.Time)]));
                }

                return ExitCodes.Success;
            }

            if (!File.Exists(path) && !Directory.Exists(path))
            {
                throw new UsageException($"'{path}' does not exist: give the folder (or file) to upload.");
            }

            if (Directory.Exists(path) && LocalTree.Scan(path).Count == 0)
            {
                throw new UsageException($"'{path}' holds no files (folders named .git and partial downloads are left out): there is nothing to upload.");
            }

            var options = new PushOptions
            {
                Parallelism = parse.GetValue(parallel),
                DigestCache = await FileDigestCache.LoadAsync(CliPaths.DigestCacheFile, cancellationToken),
                ResumeStore = await FileUploadResumeStore.LoadAsync(CliPaths.UploadResumeFile, cancellationToken),
            };
            var result = await TransferProgressView.RunAsync(context.Output, progress =>
                context.Client.UploadRunFilesAsync(ns, model, id, path, options, progress, cancellationToken));
            var reference = $"{ns}/{model}/{id}";
            if (context.Output.Json)
            {
                context.Output.WriteJson(new RunFilesOutput(reference, result.Files, result.FilesTotal, result.BytesTotal, result.FilesUploaded, result.BytesUploaded, result.Elapsed.TotalSeconds),
                    CliJson.Context.RunFilesOutput);
                return ExitCodes.Success;
            }

            context.Output.Title($"Attached {TextFormat.Count(result.FilesTotal, "file")} to {reference}");
            context.Output.Fields(
            [
                ("files", $"{TextFormat.Count(result.FilesTotal, "file")}, {TextFormat.Bytes(result.BytesTotal)}"),
                ("uploaded", $"{TextFormat.Count(result.FilesUploaded, "file")}, {TextFormat.Bytes(result.BytesUploaded)}"),
                ("run holds", TextFormat.Count(result.Files.Count, "file")),
                ("took", TextFormat.Seconds(result.Elapsed)),
            ], indent: 2);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Register(CliApp app)
    {
        var run = RunArgument();
        var path = new Option<string>("--path") { Description = "Register only the files under this folder of the run, e.g. model/ (the prefix is stripped; default: every file)." };
        var version = new Option<string>("--version", "-v") { Description = "Semantic version of the new version, e.g. 1.3.0 (unique per model)." };
        var description = new Option<string>("--description", "-d") { Description = "Description (markdown)." };
        var alias = new Option<string[]>("--alias") { Description = "Point this alias at the new version (repeatable).", HelpName = "alias" };
        var metric = new Option<string[]>("--metric") { Description = "A metric as name=number, added to (or replacing) the run's final values (repeatable).", HelpName = "name=number" };
        var param = new Option<string[]>("--param") { Description = "A param as key=value, added to (or replacing) the run's params (repeatable).", HelpName = "key=value" };
        var tag = new Option<string[]>("--tag") { Description = "A tag of the version as key=value (repeatable).", HelpName = "key=value" };
        var command = new Command("register", "Register a run as a ready version of its model from the files it holds, without uploading them again.") { run, path, version, description, alias, metric, param, tag };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (ns, model, id) = Parse(context, parse.GetValue(run)!);
            var semver = parse.GetValue(version);
            if (semver is not null && SemanticVersion.Check(semver) is { } semverProblem)
            {
                throw new UsageException($"--version: {semverProblem}");
            }

            var aliases = (parse.GetValue(alias) ?? []).Distinct(StringComparer.Ordinal).ToList();
            foreach (var name in aliases)
            {
                if (Names.CheckAlias(name, stages: []) is { } aliasProblem)
                {
                    throw new UsageException($"--alias: {aliasProblem}");
                }
            }

            var request = new RegisterRunRequest(
                semver,
                parse.GetValue(path),
                parse.GetValue(description),
                InputParser.Metrics(parse.GetValue(metric)) is { Count: > 0 } m ? m : null,
                InputParser.Pairs(parse.GetValue(param), "param", "--param") is { Count: > 0 } p ? p : null,
                InputParser.Pairs(parse.GetValue(tag), "tag", "--tag") is { Count: > 0 } t ? t : null,
                aliases.Count > 0 ? aliases : null);
            var registered = await context.Client.RegisterRunAsync(ns, model, id, request, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(registered, CliJson.Context.VersionInfo);
                return ExitCodes.Success;
            }

            context.Output.Title($"Registered {ns}/{model}/{id} as {registered.Reference}{(registered.SemVer is { } s ? $" ({s})" : "")}");
            context.Output.Fields(
            [
                ("digest", registered.ManifestDigest),
                ("files", $"{TextFormat.Count(registered.FileCount, "file")}, {TextFormat.Bytes(registered.TotalSize)}"),
                ("aliases", registered.Aliases.Count > 0 ? TextFormat.List(registered.Aliases) : null),
            ], indent: 2);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var filter = new Option<string>("--filter") { Description = "A filter, e.g. \"params.lr < 0.05 and metrics.val_auc > 0.9 and status = 'finished'\" (docs/filters.md#runs)." };
        var sort = new Option<string>("--sort") { Description = "created or metrics.<key>, '-' first for descending (default -created)." };
        var command = new Command("runs", "List a model's runs, newest first (or as --sort says), with their final metrics.") { model, filter, sort };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "runs");
            var runs = await context.Client.ListRunsAsync(CliContext.NamespaceOf(reference), reference.Model, parse.GetValue(filter), parse.GetValue(sort), cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(runs, CliJson.Context.ListRunInfo);
            }
            else if (runs.Count == 0)
            {
                context.Output.Line("No runs.");
            }
            else
            {
                var keys = runs.SelectMany(r => r.Metrics.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Take(6).ToList();
                context.Output.Table(
                    ["ID", "NAME", "STATUS", "STARTED", .. keys.Select(k => k.ToUpperInvariant())],
                    runs.Select(r => (IReadOnlyList<string>)
                    [
                        r.Id, r.Name ?? "-", r.Status, TextFormat.Time(r.StartedAt),
                        .. keys.Select(k => r.Metrics.TryGetValue(k, out var m) ? Number(m.Last) : "-"),
                    ]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> RunArgument() =>
        new("run") { Description = "The run: namespace/model/id, as 'berth run start' prints it." };

    internal static (string Namespace, string Model, string Id) Parse(CliContext context, string text)
    {
        var slash = text.LastIndexOf('/');
        if (slash <= 0 || slash == text.Length - 1)
        {
            throw new UsageException($"'{text}': name a run as namespace/model/id (as 'berth run start' prints it).");
        }

        var reference = context.ModelOnly(text[..slash], "run");
        return (CliContext.NamespaceOf(reference), reference.Model, text[(slash + 1)..]);
    }

    private static string Reference(RunInfo run) => $"{run.Namespace}/{run.Model}/{run.Id}";

    private static string Number(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
