using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth rm acme/fraud:2</c>: soft-deletes one version. The selector is required: deleting "whatever
/// is latest right now" by leaving it out is too easy a mistake. <c>berth rm acme/fraud --model</c> deletes
/// the whole model and <c>berth rm acme --namespace</c> a namespace with all its models; both are soft too
/// (garbage collection purges them after the purge delay).
/// </summary>
internal static class RemoveCommand
{
    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("reference") { Description = "The version to delete, with an explicit selector, e.g. acme/fraud:2 (with --model: a model; with --namespace: a namespace)." };
        var model = new Option<bool>("--model") { Description = "Delete the whole model named by the reference (no selector), with all its versions." };
        var space = new Option<bool>("--namespace") { Description = "Delete the namespace named by the reference, with all its models." };
        var command = new Command("rm", "Delete a version, a model or a namespace (soft: no longer listed or pullable; garbage collection purges it later).") { reference, model, space };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var text = parse.GetValue(reference)!;
            if (parse.GetValue(space))
            {
                if (parse.GetValue(model) || Names.CheckNamespace(text) is not null)
                {
                    throw new UsageException($"'berth rm --namespace' takes a namespace name alone, e.g. 'berth rm acme --namespace'; got '{text}'.");
                }

                await context.Client.DeleteNamespaceAsync(text, cancellationToken);
                context.Output.Line($"Deleted namespace {text} and every model in it: no longer listed or pullable; garbage collection purges their versions later.");
                return ExitCodes.Success;
            }

            var version = context.Reference(text);
            if (parse.GetValue(model))
            {
                if (version.HasSelector)
                {
                    throw new UsageException($"'berth rm --model' deletes a whole model; name it without a selector, e.g. {version.ModelName}.");
                }

                await context.Client.DeleteModelAsync(version.Namespace!, version.Model, cancellationToken);
                context.Output.Line($"Deleted model {version.ModelName}: no longer listed or pullable; garbage collection purges its versions later.");
                return ExitCodes.Success;
            }

            if (!version.HasSelector)
            {
                throw new UsageException($"'berth rm' deletes one version and needs it named explicitly, e.g. {version.ModelName}:2 or {version.ModelName}@sha256:<hex> (or delete the whole model with --model); '{text}' has no selector.");
            }

            var deleted = await context.Client.DeleteVersionAsync(version, cancellationToken: cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(deleted, CliJson.Context.VersionInfo);
            }
            else
            {
                context.Output.Line($"Deleted {deleted.Reference}{(deleted.SemVer is { } s ? $" ({s})" : "")}: no longer listed or pullable; its history is kept.");
            }

            return ExitCodes.Success;
        });
        return command;
    }
}
