using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth deploy record acme/fraud:7 --env prod-eu --status live</c> and <c>berth deploy ls acme/fraud</c>: where
/// versions run, as deployment systems report it. <c>ls</c> and <c>show</c> show the current state.
/// </summary>
internal static class DeployCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("deploy", "Record that a version is deploying, live, retired or failed in an environment, and list a model's deployment history.");
        command.Subcommands.Add(Record(app));
        command.Subcommands.Add(List(app));
        command.Subcommands.Add(DeployManifestCommand.Create(app));
        return command;
    }

    private static Command Record(CliApp app)
    {
        var reference = new Argument<string>("version") { Description = "The version, with a selector: acme/fraud:7, acme/fraud:1.2.0, acme/fraud:champion or acme/fraud:production." };
        var environment = new Option<string>("--env", "-e") { Description = "The environment, e.g. prod-eu.", Required = true };
        var status = new Option<string>("--status", "-s") { Description = "deploying, live, retired or failed.", Required = true };
        status.AcceptOnlyFromAmong([.. DeploymentStatuses.All]);
        var endpoint = new Option<string>("--endpoint") { Description = "Where the deployed model answers, e.g. https://scoring.acme.io." };
        var comment = new Option<string>("--comment", "-m") { Description = "Anything worth knowing: pipeline run, ticket, reason." };
        var command = new Command("record", "Record a deployment of a version; a version reported deploying or live replaces the one that ran in the environment.")
        {
            reference, environment, status, endpoint, comment,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var text = parse.GetValue(reference)!;
            var version = context.Reference(text);
            if (!version.HasSelector)
            {
                throw new UsageException($"'{text}': name the version that was deployed, e.g. {version.ModelName}:7 or {version.ModelName}:production.");
            }

            var request = new RecordDeploymentRequest(CheckedEnvironment(parse.GetValue(environment)!), parse.GetValue(status)!, parse.GetValue(endpoint), parse.GetValue(comment));
            var record = await context.Client.RecordDeploymentAsync(version, request, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(record, CliJson.Context.DeploymentInfo);
            }
            else
            {
                var where = record.Endpoint is { } url ? $" at {url}" : "";
                context.Output.Line($"Recorded {record.Namespace}/{record.Model}:{Number(record.Version)}: {record.Status} in {record.Environment}{where}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var model = new Argument<string>("model") { Description = "The model, e.g. acme/fraud." };
        var environment = new Option<string>("--env", "-e") { Description = "Only this environment." };
        var version = new Option<string>("--version", "-v") { Description = "Only this version: a number, semantic version, alias or stage." };
        var command = new Command("ls", "List a model's deployment records, newest first.") { model, environment, version };
        command.Aliases.Add("list");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reference = context.ModelOnly(parse.GetValue(model)!, "deploy ls");
            var env = parse.GetValue(environment) is { } e ? CheckedEnvironment(e) : null;
            var selector = parse.GetValue(version);
            if (selector is not null && !VersionSelector.TryParse(selector, out _, out var problem))
            {
                throw new UsageException($"--version: {problem}");
            }

            var records = await context.Client.ListDeploymentsAsync(CliContext.NamespaceOf(reference), reference.Model, env, selector, cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(records, CliJson.Context.ListDeploymentInfo);
            }
            else if (records.Count == 0)
            {
                context.Output.Line($"No deployments of {reference.ModelName}{(selector is null ? "" : ":" + selector)}{(env is null ? "" : " in " + env)} recorded.");
            }
            else
            {
                context.Output.Table(
                    ["TIME", "VERSION", "ENVIRONMENT", "STATUS", "ENDPOINT", "BY", "COMMENT"],
                    records.Select(r => (IReadOnlyList<string>)
                        [TextFormat.Time(r.At), Number(r.Version), r.Environment, r.Status, r.Endpoint ?? "-", r.Actor, r.Comment ?? ""]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    internal static string CheckedEnvironment(string name) =>
        Names.CheckEnvironment(name) is { } problem ? throw new UsageException($"--env: {problem}") : name;

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}
