using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth insight show|policy|recompute</c>: what the server read inside a version (every file), a namespace's
/// pickle-scan policy, and reading versions again (server administrators). <c>berth show</c> prints the summary.
/// </summary>
internal static class InsightCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("insight", "What the server read inside versions (framework, parameters, signature, pickle scan), scan policies, recomputing.");
        command.Subcommands.Add(Show(app));
        command.Subcommands.Add(Policy(app));
        command.Subcommands.Add(Recompute(app));
        return command;
    }

    private static Command Show(CliApp app)
    {
        var reference = new Argument<string>("reference") { Description = "namespace/model[:selector] (no selector = latest)." };
        var command = new Command("show", "Show what the server read inside a version: its metadata, the pickle scan and every file's details.") { reference };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var target = context.Reference(parse.GetValue(reference)!);
            var insight = await context.Client.GetVersionInsightAsync(target, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(insight, CliJson.Context.VersionInsight);
                return ExitCodes.Success;
            }

            context.Output.Title($"{target}: {insight.State}");
            context.Output.Fields(
            [
                ("reason", insight.Reason),
                ("read", insight.UpdatedAt is { } at ? TextFormat.Time(at) : null),
                ("scan", insight.Scan is { } scan ? InsightText.Scan(scan) : null),
                .. InsightText.MetadataFields(insight.Metadata),
            ], indent: 2);
            if (insight.Files is { Count: > 0 } files)
            {
                context.Output.Line("files:");
                InsightText.WriteFiles(context.Output, files, indent: 2);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Policy(CliApp app)
    {
        var ns = new Argument<string>("namespace") { Description = "The namespace, e.g. acme." };
        var policy = new Argument<string?>("policy")
        {
            Description = "off (nothing scanned), warn (recorded, shown, version.flagged event; the default) or block (a commit with a dangerous file is refused). Leave out to show it.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        policy.AcceptOnlyFromAmong([.. ScanPolicies.All]);
        var command = new Command("policy", "Show or set a namespace's pickle-scan policy (setting it: the namespace's admins).") { ns, policy };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var name = CliContext.Namespace(parse.GetValue(ns)!);
            var info = parse.GetValue(policy) is { } value
                ? await context.Client.SetScanPolicyAsync(name, value, cancellationToken)
                : await context.Client.GetScanPolicyAsync(name, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(info, CliJson.Context.ScanPolicyInfo);
            }
            else
            {
                context.Output.Line($"Scan policy of {info.Namespace}: {info.Policy}");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Recompute(CliApp app)
    {
        var target = new Argument<string?>("target")
        {
            Description = "A namespace (acme), a model (acme/fraud) or a version (acme/fraud:3); leave out for every ready version.",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var command = new Command("recompute", "Have the server read ready versions again, e.g. after an upgrade reads more formats (server administrators).") { target };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var request = new RecomputeInsightRequest();
            if (parse.GetValue(target) is { } text)
            {
                if (text.Contains('/', StringComparison.Ordinal))
                {
                    var reference = context.Reference(text);
                    request = new RecomputeInsightRequest(CliContext.NamespaceOf(reference), reference.Model, reference.HasSelector ? reference.Selector.Text : null);
                }
                else
                {
                    request = new RecomputeInsightRequest(CliContext.Namespace(text));
                }
            }

            var response = await context.Client.RecomputeInsightAsync(request, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(response, CliJson.Context.RecomputeInsightResponse);
            }
            else
            {
                context.Output.Line($"Queued {TextFormat.Count(response.Queued, "version")} to be read again.");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
