using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth webhook deliveries|delivery|redeliver</c>: each event on its way to a webhook, with every attempt
/// (status, latency, the error's category; the receiver's answer and the error's message for server administrators),
/// and sending one again.
/// </summary>
internal static class DeliveryCommands
{
    public static IEnumerable<Command> Create(CliApp app) => [List(app), Show(app), Redeliver(app)];

    private static Command List(CliApp app)
    {
        var id = new Argument<long>("id") { Description = "The webhook's id (see 'berth webhook list <namespace>')." };
        var state = new Option<string>("--state", "-s") { Description = "Only deliveries in this state: pending, succeeded or failed." };
        state.AcceptOnlyFromAmong(DeliveryStates.Pending, DeliveryStates.Succeeded, DeliveryStates.Failed);
        var command = new Command("deliveries", "List a webhook's deliveries, newest first: event, state, attempts, last status, next attempt.") { id, state };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var hook = parse.GetValue(id);
            var wanted = parse.GetValue(state);
            var deliveries = await context.Client.ListDeliveriesAsync(hook, wanted, cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(deliveries, CliJson.Context.ListDeliveryInfo);
            }
            else if (deliveries.Count == 0)
            {
                context.Output.Line($"No {(wanted is null ? "" : wanted + " ")}deliveries for webhook #{Number(hook)}.");
            }
            else
            {
                context.Output.Table(
                    ["ID", "EVENT", "STATE", "ATTEMPTS", "LAST STATUS", "CREATED", "NEXT ATTEMPT"],
                    deliveries.Select(d => (IReadOnlyList<string>)
                    [
                        Number(d.Id),
                        Event(d),
                        d.State,
                        Number(d.AttemptCount),
                        d.LastStatus is { } status ? Number(status) : "-",
                        TextFormat.Time(d.CreatedAt),
                        d.NextAttemptAt is { } next && d.State == DeliveryStates.Pending ? TextFormat.Time(next) : "-",
                    ]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CliApp app)
    {
        var id = DeliveryArgument();
        var command = new Command("delivery", "Show one delivery with every attempt: time, latency, status or error, and (to server administrators) the receiver's answer.") { id };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var delivery = await context.Client.GetDeliveryAsync(parse.GetValue(id), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(delivery, CliJson.Context.DeliveryInfo);
                return ExitCodes.Success;
            }

            Write(context.Output, delivery, $"Delivery #{Number(delivery.Id)} to webhook #{Number(delivery.WebhookId)}: {delivery.State}");
            var attempts = delivery.Attempts ?? [];
            context.Output.Line("attempts:");
            if (attempts.Count == 0)
            {
                context.Output.Line("  (none yet)");
            }
            else
            {
                context.Output.Table(
                    ["#", "TIME", "LATENCY", "RESULT", "RESPONSE"],
                    attempts.Select(a => (IReadOnlyList<string>)
                    [
                        Number(a.Number),
                        TextFormat.Time(a.StartedAt),
                        TextFormat.Milliseconds(a.DurationMs),
                        a.Status is { } status ? Number(status) + (a.Error is { } e ? $" ({e})" : "") : "error: " + (a.Error ?? "no answer"),
                        TextFormat.Excerpt(a.Response ?? a.Detail),
                    ]),
                    indent: 2);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Redeliver(CliApp app)
    {
        var id = DeliveryArgument();
        var command = new Command("redeliver", "Send a delivery's event to its webhook again, as a new delivery.") { id };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var delivery = await context.Client.RedeliverAsync(parse.GetValue(id), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(delivery, CliJson.Context.DeliveryInfo);
            }
            else
            {
                Write(context.Output, delivery, $"Queued delivery #{Number(delivery.Id)} to webhook #{Number(delivery.WebhookId)}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<long> DeliveryArgument() =>
        new("delivery-id") { Description = "The delivery's id (see 'berth webhook deliveries <webhook id>')." };

    private static void Write(Output output, DeliveryInfo d, string title)
    {
        output.Title(title);
        output.Fields(
        [
            ("event", Event(d)),
            ("state", d.State),
            ("attempts", Number(d.AttemptCount)),
            ("last status", d.LastStatus is { } status ? Number(status) : null),
            ("created", TextFormat.Time(d.CreatedAt)),
            ("next attempt", d.NextAttemptAt is { } next && d.State == DeliveryStates.Pending ? TextFormat.Time(next) : null),
            ("completed", d.CompletedAt is { } completed ? TextFormat.Time(completed) : null),
            ("redelivery of", d.RedeliveryOf is { } original ? "#" + Number(original) : null),
        ], indent: 2);
    }

    /// <summary><c>stage.changed #42</c> (a ping has no event id).</summary>
    private static string Event(DeliveryInfo d) => d.EventId is { } e ? $"{d.EventType} #{Number(e)}" : d.EventType;

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
