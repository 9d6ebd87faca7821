using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth webhook add|list|show|update|remove|test</c> (namespace admins): URLs that receive a namespace's events,
/// signed with a secret. Their deliveries are <see cref="DeliveryCommands"/>.
/// </summary>
internal static class WebhookCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("webhook", "Send a namespace's events to URLs (CI/CD pipelines), signed; see their deliveries and send them again.");
        command.Subcommands.Add(Add(app));
        command.Subcommands.Add(List(app));
        command.Subcommands.Add(Show(app));
        command.Subcommands.Add(Update(app));
        command.Subcommands.Add(Remove(app));
        command.Subcommands.Add(Test(app));
        foreach (var delivery in DeliveryCommands.Create(app))
        {
            command.Subcommands.Add(delivery);
        }

        return command;
    }

    private static Command Add(CliApp app)
    {
        var ns = new Argument<string>("namespace") { Description = "The namespace whose events the URL receives, e.g. acme." };
        var url = new Option<string>("--url") { Description = "The receiver, an http(s) URL, e.g. https://ci.acme.io/hooks/berth.", Required = true };
        var options = new Options(update: false);
        var command = new Command("add", "Subscribe a URL to a namespace's events; without --secret-file the server generates the signing secret and it is shown once.")
        {
            ns, url,
        };
        options.AddTo(command);
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var space = CliContext.Namespace(parse.GetValue(ns)!);
            var secret = options.Secret(parse);
            var request = new CreateWebhookRequest(parse.GetValue(url)!, secret, options.Events(parse), options.Model(parse, space), parse.GetValue(options.Description));
            var hook = await context.Client.CreateWebhookAsync(space, request, cancellationToken);
            if (secret is not null)
            {
                // Only a generated secret is ever shown; one the user chose stays out of the output.
                hook = hook with { Secret = null };
            }

            Write(context, hook, $"Created webhook #{Number(hook.Id)} for {hook.Namespace}.");
            if (!context.Output.Json && hook.Secret is { } generated)
            {
                context.Output.Line();
                context.Output.Line("The signing secret was generated and is shown only this once; store it now (receivers check signatures with it):");
                context.Output.Line();
                context.Output.Line("    " + generated);
                context.Output.Line();
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var ns = new Argument<string>("namespace") { Description = "The namespace, e.g. acme." };
        var command = new Command("list", "List a namespace's webhooks: URL, events, model, whether enabled, failures in a row.") { ns };
        command.Aliases.Add("ls");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var space = CliContext.Namespace(parse.GetValue(ns)!);
            var hooks = await context.Client.ListWebhooksAsync(space, cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(hooks, CliJson.Context.ListWebhookInfo);
            }
            else if (hooks.Count == 0)
            {
                context.Output.Line($"No webhooks in {space}: 'berth webhook add {space} --url <url>' creates one.");
            }
            else
            {
                context.Output.Table(
                    ["ID", "URL", "EVENTS", "MODEL", "STATUS", "FAILURES"],
                    hooks.Select(h => (IReadOnlyList<string>)[Number(h.Id), h.Url, string.Join(",", h.Events), h.Model ?? "(all)", Status(h), Number(h.ConsecutiveFailures)]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CliApp app)
    {
        var id = IdArgument();
        var command = new Command("show", "Show a webhook.") { id };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var hook = await context.Client.GetWebhookAsync(parse.GetValue(id), cancellationToken);
            Write(context, hook, $"Webhook #{Number(hook.Id)} of {hook.Namespace}");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Update(CliApp app)
    {
        var id = IdArgument();
        var url = new Option<string>("--url") { Description = "A new receiver URL." };
        var allModels = new Option<bool>("--all-models") { Description = "Send the events of every model of the namespace (drops --model)." };
        var enable = new Option<bool>("--enable") { Description = "Enable the webhook again (its failure count starts over)." };
        var disable = new Option<bool>("--disable") { Description = "Stop sending events to it." };
        var options = new Options(update: true);
        var command = new Command("update", "Change a webhook's URL, events, model, secret or description, or enable or disable it; options left out keep their value.")
        {
            id, url,
        };
        options.AddTo(command);
        command.Options.Add(allModels);
        command.Options.Add(enable);
        command.Options.Add(disable);
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var model = options.Model(parse, null);
            if (model is not null && parse.GetValue(allModels))
            {
                throw new UsageException("Give --model or --all-models, not both.");
            }

            if (parse.GetValue(enable) && parse.GetValue(disable))
            {
                throw new UsageException("Give --enable or --disable, not both.");
            }

            var secret = options.Secret(parse);
            var request = new UpdateWebhookRequest(
                parse.GetValue(url),
                secret,
                options.Events(parse),
                parse.GetValue(allModels) ? "" : model,
                parse.GetValue(options.Description),
                parse.GetValue(enable) ? true : parse.GetValue(disable) ? false : null);
            if (request == new UpdateWebhookRequest())
            {
                throw new UsageException("Nothing to change: give --url, --events, --model, --all-models, --secret-file, --description, --enable or --disable.");
            }

            var hook = await context.Client.UpdateWebhookAsync(parse.GetValue(id), request, cancellationToken);
            Write(context, hook with { Secret = null }, $"Updated webhook #{Number(hook.Id)} of {hook.Namespace}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var id = IdArgument();
        var command = new Command("remove", "Delete a webhook and its delivery log; nothing more is sent to it.") { id };
        command.Aliases.Add("rm");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var hook = parse.GetValue(id);
            await context.Client.DeleteWebhookAsync(hook, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new WebhookRemovedOutput(hook, true), CliJson.Context.WebhookRemovedOutput);
            }
            else
            {
                context.Output.Line($"Deleted webhook #{Number(hook)}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Test(CliApp app)
    {
        var id = IdArgument();
        var command = new Command("test", "Send a ping event to a webhook now and show the status and latency (and to server administrators the answer); exits 1 unless the receiver answers 2xx.") { id };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var delivery = await context.Client.TestWebhookAsync(parse.GetValue(id), cancellationToken);
            var attempt = delivery.Attempts?.LastOrDefault() ?? throw new CliException($"The server sent no attempt for the ping of webhook #{Number(delivery.WebhookId)}.");
            var answer = attempt.Status is { } status ? $"{Number(status)} in {TextFormat.Milliseconds(attempt.DurationMs)}" : $"no answer after {TextFormat.Milliseconds(attempt.DurationMs)}";
            if (context.Output.Json)
            {
                context.Output.WriteJson(delivery, CliJson.Context.DeliveryInfo);
            }

            if (attempt.Status is >= 200 and < 300)
            {
                if (!context.Output.Json)
                {
                    context.Output.Line($"Ping delivered to webhook #{Number(delivery.WebhookId)}: {answer}.");
                    context.Output.Fields([("response", TextFormat.Excerpt(attempt.Response) is { Length: > 0 } excerpt ? excerpt : null)], indent: 2);
                }

                return ExitCodes.Success;
            }

            // The error's message and the receiver's answer come only to server administrators; others see the category.
            var details = attempt.Error is { } error ? error + (attempt.Detail is { } detail ? $" ({detail})" : "") : TextFormat.Excerpt(attempt.Response);
            Output.Error($"The ping to webhook #{Number(delivery.WebhookId)} failed: {answer}{(details.Length > 0 ? ": " + details : "")} (a receiver must answer 2xx).");
            return ExitCodes.Failure;
        });
        return command;
    }

    private static Argument<long> IdArgument() => new("id") { Description = "The webhook's id (see 'berth webhook list <namespace>')." };

    private static string Status(WebhookInfo hook) =>
        hook.Enabled ? "enabled" : hook.DisabledReason is { } reason ? $"disabled ({reason})" : "disabled";

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private static void Write(CliContext context, WebhookInfo hook, string title)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(hook, CliJson.Context.WebhookInfo);
            return;
        }

        context.Output.Title(title);
        context.Output.Fields(
        [
            ("url", hook.Url),
            ("events", TextFormat.List(hook.Events)),
            ("model", hook.Model ?? "(all)"),
            ("status", Status(hook)),
            ("failures", Number(hook.ConsecutiveFailures) + " in a row"),
            ("description", string.IsNullOrWhiteSpace(hook.Description) ? null : hook.Description.Trim()),
            ("created", $"{TextFormat.Time(hook.CreatedAt)} by {hook.CreatedBy}"),
        ], indent: 2);
    }

    /// <summary>The options <c>add</c> and <c>update</c> share.</summary>
    private sealed class Options(bool update)
    {
        private readonly Option<string[]> _events = new("--events")
        {
            HelpName = "types",
            Description = $"Event types to send, comma-separated or repeated, e.g. stage.changed,alias.moved; * for all{(update ? "" : " (default: all)")}.",
        };

        private readonly Option<string> _model = new("--model")
        {
            Description = $"Send only this model's events, e.g. acme/fraud{(update ? "" : " (default: every model)")}.",
        };

        private readonly Option<string> _secretFile = new("--secret-file")
        {
            HelpName = "path",
            Description = $"A file holding the {(update ? "new " : "")}signing secret (16-256 characters; one trailing newline is dropped).",
        };

        public Option<string> Description { get; } = new("--description", "-d") { Description = "What the webhook is for." };

        public void AddTo(Command command)
        {
            command.Options.Add(_events);
            command.Options.Add(_model);
            command.Options.Add(_secretFile);
            command.Options.Add(Description);
        }

        public List<string>? Events(ParseResult parse) =>
            parse.GetValue(_events) is { Length: > 0 } values ? InputParser.EventTypeNames(values, "--events") : null;

        public string? Secret(ParseResult parse) =>
            parse.GetValue(_secretFile) is { } path ? InputParser.SecretFile(path, "--secret-file") : null;

        /// <summary>
        /// The model as <c>namespace/model</c> (<c>fraud</c> means the webhook's namespace); null when not given.
        /// <paramref name="ns"/> is the webhook's namespace, when known.
        /// </summary>
        public string? Model(ParseResult parse, string? ns)
        {
            if (parse.GetValue(_model) is not { } text)
            {
                return null;
            }

            if (!ModelReference.TryParse(text, out var reference, out var error))
            {
                throw new UsageException($"--model: {error}");
            }

            if (reference.HasSelector)
            {
                throw new UsageException($"--model '{text}': a webhook follows a model (namespace/model), not a version; drop '{reference.Selector.ToReferenceSuffix()}'.");
            }

            if (ns is not null && reference.Namespace is { } other && other != ns)
            {
                throw new UsageException($"--model '{text}' is not in namespace {ns}: a webhook receives only its own namespace's events.");
            }

            reference = reference.WithDefaultNamespace(ns);
            return reference.Namespace is null ? reference.Model : reference.ModelName;
        }
    }
}
