using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary><c>berth ls</c> (namespaces), <c>berth ls acme</c> (models), <c>berth ls acme/fraud</c> (versions).</summary>
internal static class ListCommand
{
    public static Command Create(CliApp app)
    {
        var target = new Argument<string?>("target")
        {
            Description = "Nothing: namespaces. A namespace (acme): its models. A model (acme/fraud): its versions.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var all = new Option<bool>("--all", "-a") { Description = "Versions: include pending, failed and deleted ones." };
        var command = new Command("ls", "List namespaces, the models of a namespace, or the versions of a model.") { target, all };
        command.Aliases.Add("list");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var text = parse.GetValue(target);
            if (text is not null && text.StartsWith('-'))
            {
                throw new UsageException($"Unknown option '{text}'.");
            }

            if (text is null)
            {
                await NamespacesAsync(context, cancellationToken);
            }
            else if (text.AsSpan().IndexOfAny('/', ':', '@') < 0)
            {
                await ModelsAsync(context, CliContext.Namespace(text), cancellationToken);
            }
            else
            {
                var model = context.ModelOnly(text, "ls");
                await VersionsAsync(context, CliContext.NamespaceOf(model), model.Model, parse.GetValue(all), cancellationToken);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task NamespacesAsync(CliContext context, CancellationToken cancellationToken)
    {
        var namespaces = await context.Client.ListNamespacesAsync(cancellationToken).ToListAsync(cancellationToken);
        if (context.Output.Json)
        {
            context.Output.WriteJson(namespaces, CliJson.Context.ListNamespaceInfo);
            return;
        }

        if (namespaces.Count == 0)
        {
            context.Output.Line("No namespaces yet: 'berth push <folder> <namespace>/<model>' creates one.");
            return;
        }

        // Usage against the quota where there is one: "1.2 GiB / 100 GiB", "12 / 10000".
        context.Output.Table(
            ["NAMESPACE", "MODELS", "VERSIONS", "USED", "CREATED", "DESCRIPTION"],
            namespaces.Select(n => (IReadOnlyList<string>)
            [
                n.Name,
                Number(n.ModelCount),
                n.UsedVersions.ToString(CultureInfo.InvariantCulture) + (n.MaxVersions is { } v ? " / " + v.ToString(CultureInfo.InvariantCulture) : ""),
                TextFormat.Bytes(n.UsedBytes) + (n.MaxBytes is { } b ? " / " + TextFormat.Bytes(b) : ""),
                TextFormat.ShortTime(n.CreatedAt),
                TextFormat.Summary(n.Description),
            ]));
    }

    private static async Task ModelsAsync(CliContext context, string ns, CancellationToken cancellationToken)
    {
        var models = await context.Client.ListModelsAsync(ns, cancellationToken).ToListAsync(cancellationToken);
        if (context.Output.Json)
        {
            context.Output.WriteJson(models, CliJson.Context.ListModelInfo);
            return;
        }

        if (models.Count == 0)
        {
            context.Output.Line($"No models in {ns}.");
            return;
        }

        context.Output.Table(
            ["MODEL", "VERSIONS", "LATEST", "STAGES", "ALIASES", "UPDATED"],
            models.Select(m => (IReadOnlyList<string>)
            [
                m.FullName,
                Number(m.VersionCount),
                m.LatestVersion is { } latest ? Number(latest) : "-",
                TextFormat.Pointers(m.Stages),
                TextFormat.Pointers(m.Aliases),
                TextFormat.ShortTime(m.UpdatedAt),
            ]));
    }

    private static async Task VersionsAsync(CliContext context, string ns, string model, bool all, CancellationToken cancellationToken)
    {
        var versions = await context.Client.ListVersionsAsync(ns, model, all, cancellationToken).ToListAsync(cancellationToken);
        if (context.Output.Json)
        {
            context.Output.WriteJson(versions, CliJson.Context.ListVersionInfo);
            return;
        }

        if (versions.Count == 0)
        {
            context.Output.Line($"No {(all ? "" : "ready ")}versions of {ns}/{model}.");
            return;
        }

        VersionTable(context.Output, versions, showState: all);
    }

    /// <summary>The version table of <c>ls</c> and <c>search</c>.</summary>
    internal static void VersionTable(Output output, IReadOnlyList<VersionInfo> versions, bool showState, bool fullReference = false)
    {
        List<string> headers = [fullReference ? "REFERENCE" : "VERSION", "SEMVER"];
        if (showState)
        {
            headers.Add("STATE");
        }

        headers.AddRange(["STAGE", "ALIASES", "DEPLOYED", "SIZE", "CREATED", "METRICS"]);
        output.Table(headers, versions.Select(v =>
        {
            List<string> row = [fullReference ? v.Reference : Number(v.Number), v.SemVer ?? "-"];
            if (showState)
            {
                row.Add(v.State);
            }

            row.AddRange(
            [
                v.Stage ?? "-",
                v.Aliases.Count > 0 ? string.Join(",", v.Aliases) : "-",
                TextFormat.Deployments(v.Deployments),
                TextFormat.Bytes(v.TotalSize),
                TextFormat.ShortTime(v.CreatedAt),
                TextFormat.Metrics(v.Metrics),
            ]);
            return (IReadOnlyList<string>)row;
        }));
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
