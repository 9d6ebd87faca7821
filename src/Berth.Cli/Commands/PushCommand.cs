using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth push ./model acme/fraud --version 1.2.0 --metric auc=0.931 …</c>: hashes the folder (with the
/// digest cache, so unchanged files are not read again), uploads only what the server lacks (resumable
/// across runs through the upload store), and commits the version. Content that a ready version of the
/// model already has makes no new version (unless --version or --allow-unchanged): the aliases move onto
/// that version instead.
/// </summary>
internal static class PushCommand
{
    public static Command Create(CliApp app)
    {
        var source = new Argument<string>("path") { Description = "The model folder (or a single file) to push." };
        var target = new Argument<string>("model") { Description = "Where to push: namespace/model (or model with a default namespace)." };
        var version = new Option<string>("--version", "-v") { Description = "Semantic version of the new version, e.g. 1.2.0 (unique per model)." };
        var description = new Option<string>("--description", "-d") { Description = "Description (markdown)." };
        var metrics = Repeated("--metric", "name=number", "A metric, e.g. auc=0.931 (repeatable; '.' is the decimal point).");
        var parameters = Repeated("--param", "name=value", "A training parameter, e.g. lr=0.01 (repeatable).");
        var tags = Repeated("--tag", "key=value", "A tag, e.g. team=risk (repeatable).");
        var aliases = Repeated("--alias", "alias", "Point this alias at the new version, e.g. candidate (repeatable).");
        var gitCommit = new Option<string>("--git-commit") { Description = "Commit of the training code (4-64 hex characters)." };
        var gitRepo = new Option<string>("--git-repo") { Description = "Repository of the training code." };
        var runId = new Option<string>("--run", "--run-id") { Description = "Id of the training run of this model that produced it (the run must exist; committing publishes run.registered)." };
        var datasets = Repeated("--dataset", "uri[@digest]", "Training data as uri[@algorithm:digest], e.g. s3://data/train.parquet@sha256:… (repeatable).");
        var parents = Repeated("--parent", "reference", "A version this one derives from, e.g. acme/base:3 (repeatable).");
        var allowUnchanged = new Option<bool>("--allow-unchanged")
        {
            Description = "Create a new version even if a ready version of the model has exactly this content (by default such a push only moves the --alias options onto it).",
        };
        var parallel = new Option<int>("--parallel", "-p") { Description = "Files uploaded at the same time.", DefaultValueFactory = _ => 4 };
        parallel.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() is < 1 or > 64)
            {
                result.AddError("--parallel must be between 1 and 64.");
            }
        });

        var command = new Command("push", "Push a folder as a new version of a model.")
        {
            source, target, version, description, metrics, parameters, tags, aliases, gitCommit, gitRepo, runId, datasets, parents, allowUnchanged, parallel,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var path = parse.GetValue(source)!;
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                throw new UsageException($"'{path}' does not exist: give the model folder (or file) to push.");
            }

            if (Directory.Exists(path) && LocalTree.Scan(path).Count == 0)
            {
                throw new UsageException($"'{path}' holds no files (folders named .git and partial downloads are left out): there is nothing to push.");
            }

            var reference = context.ModelOnly(parse.GetValue(target)!, "push");
            var semver = parse.GetValue(version);
            if (semver is not null && SemanticVersion.Check(semver) is { } semverProblem)
            {
                throw new UsageException($"--version: {semverProblem}");
            }

            var aliasList = (parse.GetValue(aliases) ?? []).Distinct(StringComparer.Ordinal).ToList();
            foreach (var alias in aliasList)
            {
                if (Names.CheckAlias(alias, stages: []) is { } aliasProblem)
                {
                    throw new UsageException($"--alias: {aliasProblem}");
                }
            }

            var parentList = (parse.GetValue(parents) ?? []).ToList();
            foreach (var parent in parentList)
            {
                if (!ModelReference.TryParse(parent, out _, out var parentProblem))
                {
                    throw new UsageException($"--parent: {parentProblem}");
                }
            }

            var lineage = new Lineage(
                parse.GetValue(runId),
                parse.GetValue(gitRepo),
                parse.GetValue(gitCommit),
                (parse.GetValue(datasets) ?? []).Select(InputParser.Dataset).ToList() is { Count: > 0 } ds ? ds : null,
                parentList.Count > 0 ? parentList : null);
            var hasLineage = lineage.RunId is not null || lineage.GitRepository is not null || lineage.GitCommit is not null || lineage.Datasets is not null || lineage.Parents is not null;

            var options = new PushOptions
            {
                Version = semver,
                Description = parse.GetValue(description),
                Metrics = NullIfEmpty(InputParser.Metrics(parse.GetValue(metrics))),
                Params = NullIfEmpty(InputParser.Pairs(parse.GetValue(parameters), "param", "--param")),
                Tags = NullIfEmpty(InputParser.Pairs(parse.GetValue(tags), "tag", "--tag")),
                Aliases = aliasList.Count > 0 ? aliasList : null,
                Lineage = hasLineage ? lineage : null,
                AllowUnchanged = parse.GetValue(allowUnchanged),
                Parallelism = parse.GetValue(parallel),
                DigestCache = await FileDigestCache.LoadAsync(CliPaths.DigestCacheFile, cancellationToken),
                ResumeStore = await FileUploadResumeStore.LoadAsync(CliPaths.UploadResumeFile, cancellationToken),
            };

            var client = context.Client;
            var ns = CliContext.NamespaceOf(reference);
            var result = await TransferProgressView.RunAsync(context.Output, progress =>
                client.PushAsync(path, ns, reference.Model, options, progress, cancellationToken));

            var present = result.FilesTotal - result.FilesUploaded;
            var presentBytes = Math.Max(0, result.BytesTotal - result.BytesUploaded);
            var same = result.SameContentAs?.Reference;
            var moves = (options.Aliases ?? []).Zip(result.AliasMoves, (alias, m) => new PushAliasOutput(alias, m.Outcome, m.Request?.Id)).ToList();
            var ignored = result.Unchanged ? Ignored(options) : [];
            if (context.Output.Json)
            {
                context.Output.WriteJson(
                    new PushOutput(result.Version, result.FilesTotal, result.BytesTotal, result.FilesUploaded, result.BytesUploaded, present, presentBytes, result.Elapsed.TotalSeconds,
                        result.Unchanged, same, moves, ignored),
                    CliJson.Context.PushOutput);
                return ExitCodes.Success;
            }

            var v = result.Version;
            if (result.Unchanged)
            {
                context.Output.Title($"unchanged: same content as {v.Reference}{(v.SemVer is { } sv ? $" ({sv})" : "")} — no new version created");
                context.Output.Fields(
                [
                    ("digest", v.ManifestDigest),
                    ("files", $"{TextFormat.Count(result.FilesTotal, "file")}, {TextFormat.Bytes(result.BytesTotal)}"),
                    ("aliases", moves.Count > 0 ? TextFormat.List(moves.Select(m => $"{m.Alias} → {v.Number} ({Describe(m)})")) : null),
                    ("ignored", ignored.Count > 0 ? $"{TextFormat.List(ignored)}: they describe a new version (--allow-unchanged creates one)" : null),
                    ("took", TextFormat.Seconds(result.Elapsed)),
                ], indent: 2);
                return ExitCodes.Success;
            }

            context.Output.Title($"Pushed {v.Reference}{(v.SemVer is { } s ? $" ({s})" : "")}");
            context.Output.Fields(
            [
                ("digest", v.ManifestDigest),
                ("same content as", same),
                ("files", $"{TextFormat.Count(result.FilesTotal, "file")}, {TextFormat.Bytes(result.BytesTotal)}"),
                ("uploaded", $"{TextFormat.Count(result.FilesUploaded, "file")}, {TextFormat.Bytes(result.BytesUploaded)}"),
                ("already present", $"{TextFormat.Count(present, "file")}, {TextFormat.Bytes(presentBytes)}"),
                ("aliases", v.Aliases.Count > 0 ? TextFormat.List(v.Aliases) : null),
                ("took", TextFormat.Seconds(result.Elapsed)),
            ], indent: 2);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The options of an unchanged push that were not used, as the user typed them.</summary>
    private static List<string> Ignored(PushOptions options)
    {
        var ignored = new List<string>();
        void Add(bool given, string name)
        {
            if (given)
            {
                ignored.Add(name);
            }
        }

        Add(options.Description is not null, "--description");
        Add(options.Metrics is not null, "--metric");
        Add(options.Params is not null, "--param");
        Add(options.Tags is not null, "--tag");
        Add(options.Lineage is not null, "lineage (--run, --git-*, --dataset, --parent)");
        return ignored;
    }

    private static string Describe(PushAliasOutput move) => move.Outcome switch
    {
        "applied" => "moved",
        "unchanged" => "already there",
        "requested" => $"needs approval: request #{move.RequestId}",
        var other => other,
    };

    private static Option<string[]> Repeated(string name, string helpName, string description) =>
        new(name) { Description = description, HelpName = helpName };

    private static Dictionary<TKey, TValue>? NullIfEmpty<TKey, TValue>(Dictionary<TKey, TValue> values) where TKey : notnull =>
        values.Count > 0 ? values : null;
}
