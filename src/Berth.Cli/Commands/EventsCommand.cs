using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth events [--namespace …] [--model …] [--type …] [--since id]</c>: events after a cursor, oldest first;
/// with <c>--follow</c>, the live stream until Ctrl+C (one line, or one JSON object, per event).
/// </summary>
internal static class EventsCommand
{
    /// <summary>The most events the server returns for one request.</summary>
    private const int MaxLimit = 1000;

    /// <summary>A value that is null or absent, shown as history shows a missing stage.</summary>
    private const string None = "(none)";

    public static Command Create(CliApp app)
    {
        var ns = new Option<string>("--namespace", "-n") { Description = "Only events of this namespace." };
        var model = new Option<string>("--model", "-m") { Description = "Only events of this model, e.g. acme/fraud." };
        var types = new Option<string[]>("--type", "-t")
        {
            HelpName = "types",
            Description = "Only these event types, comma-separated or repeated, e.g. stage.changed,alias.moved.",
        };
        var since = new Option<long?>("--since") { HelpName = "id", Description = "Events after this event id (default: from the first event; with --follow, from now)." };
        since.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<long?>() is < 0)
            {
                result.AddError("--since must be an event id (0 for the beginning).");
            }
        });
        var limit = new Option<int?>("--limit", "-l") { Description = $"At most this many events (1-{MaxLimit}; default 100)." };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is < 1 or > MaxLimit)
            {
                result.AddError($"--limit must be between 1 and {MaxLimit}.");
            }
        });
        var follow = new Option<bool>("--follow", "-f") { Description = "Keep running and print events as they happen, until Ctrl+C." };
        var command = new Command("events", "List events (changes to models, versions, stages, aliases, requests, deployments) after a cursor, or follow them live; with --json one JSON object per line.")
        {
            ns, model, types, since, limit, follow,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var filter = new Filter(
                parse.GetValue(ns) is { } n ? CliContext.Namespace(n) : null,
                parse.GetValue(model) is { } m ? context.ModelOnly(m, "events --model").ModelName : null,
                parse.GetValue(types) is { Length: > 0 } t ? InputParser.EventTypeNames(t, "--type") : null);
            if (filter is { Namespace: { } space, Model: { } name } && !name.StartsWith(space + "/", StringComparison.Ordinal))
            {
                throw new UsageException($"--model {name} is not in --namespace {space}.");
            }

            if (!parse.GetValue(follow))
            {
                return await ListAsync(context, filter, parse.GetValue(since) ?? 0, parse.GetValue(limit), cancellationToken);
            }

            if (parse.GetValue(limit) is not null)
            {
                throw new UsageException("--limit sets the size of a listing; --follow prints events until Ctrl+C: leave --limit out.");
            }

            return await FollowAsync(context, filter, parse.GetValue(since), cancellationToken);
        });
        return command;
    }

    private static async Task<int> ListAsync(CliContext context, Filter filter, long since, int? limit, CancellationToken cancellationToken)
    {
        var batch = await context.Client.ListEventsAsync(since, filter.Namespace, filter.Model, filter.Types, limit, cancellationToken);
        if (context.Output.Json)
        {
            foreach (var item in batch.Items)
            {
                context.Output.WriteJson(item, CliJson.Lines.EventInfo);
            }

            return ExitCodes.Success;
        }

        if (batch.Items.Count == 0)
        {
            context.Output.Line(since == 0 ? "No events." : $"No events after #{Number(since)}.");
            return ExitCodes.Success;
        }

        context.Output.Table(
            ["ID", "TIME", "TYPE", "SUBJECT", "ACTOR", "CHANGE"],
            batch.Items.Select(e => (IReadOnlyList<string>)["#" + Number(e.Id), TextFormat.Time(e.Time), e.Type, Subject(e), e.Actor, Change(e)]));
        context.Output.Line($"Newer events: --since {Number(batch.Next)}");
        return ExitCodes.Success;
    }

    /// <summary>
    /// The live stream, one event per line (flushed at once), until Ctrl+C or until the reader of stdout goes away.
    /// Stdout carries nothing but events; the notice that the stream started goes to stderr.
    /// </summary>
    private static async Task<int> FollowAsync(CliContext context, Filter filter, long? since, CancellationToken cancellationToken)
    {
        try
        {
            var cursor = since ?? await HeadAsync(context, filter, cancellationToken);
            Console.Error.WriteLine($"Following events{filter.Describe()} after #{Number(cursor)}; Ctrl+C stops.");
            using var stdout = Output.OpenLineWriter();
            await foreach (var item in context.Client.StreamEventsAsync(cursor, filter.Namespace, filter.Model, filter.Types, cancellationToken))
            {
                var line = context.Output.Json
                    ? JsonSerializer.Serialize(item, CliJson.Lines.EventInfo)
                    : $"{TextFormat.Time(item.Time)}  #{Number(item.Id)}  {item.Type}  {Subject(item)}  {item.Actor}  {Change(item)}".TrimEnd();
                try
                {
                    stdout.WriteLine(line);
                }
                catch (IOException)
                {
                    // The reader went away (berth events --follow | head -n 3): done, like any filter.
                    return ExitCodes.Success;
                }
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C is how a stream ends.
        }

        return ExitCodes.Success;
    }

    /// <summary>Where <c>--follow</c> without <c>--since</c> starts: after the newest committed event.</summary>
    private static async Task<long> HeadAsync(CliContext context, Filter filter, CancellationToken cancellationToken) =>
        (await context.Client.ListEventsAsync(0, filter.Namespace, filter.Model, filter.Types, 1, cancellationToken)).Head;

    /// <summary>What the event is about: <c>acme/fraud:7</c>, <c>acme/fraud</c> or <c>acme</c>.</summary>
    private static string Subject(EventInfo e) =>
        e.Model is { } model ? model + (e.Version is { } v ? ":" + Number(v) : "") : e.Namespace ?? "-";

    /// <summary>What changed, briefly: <c>staging -> production</c>, <c>champion: 6 -> 7</c>, <c>prod-eu: (none) -> live</c>.</summary>
    private static string Change(EventInfo e) => e.Type switch
    {
        EventTypes.StageChanged => $"{Value(e.Before, "stage")} -> {Value(e.After, "stage")}",
        EventTypes.AliasMoved or EventTypes.AliasRemoved => $"{Value(e.Data, "alias")}: {Value(e.Before, "version")} -> {Value(e.After, "version")}",
        EventTypes.DeploymentRecorded => $"{Value(e.Data, "environment")}: {Value(e.Before, "status")} -> {Value(e.After, "status")}",
        _ when e.Before is null && e.After is null => Pairs(e.Data),
        _ when e.Before is null => Pairs(e.After),
        _ => TextFormat.Excerpt(string.Join("; ", Keys(e.Before, e.After)
            .Where(k => Value(e.Before, k) != Value(e.After, k))
            .Select(k => $"{k}: {TextFormat.Excerpt(Value(e.Before, k), 24)} -> {TextFormat.Excerpt(Value(e.After, k), 24)}"))),
    };

    /// <summary><c>key=value</c> for the values that are set, long ones (digests) shortened.</summary>
    private static string Pairs(JsonElement? values) =>
        TextFormat.Excerpt(string.Join(" ", Keys(values, null).Where(k => Value(values, k) != None).Select(k => $"{k}={TextFormat.Excerpt(Value(values, k), 24)}")));

    private static IEnumerable<string> Keys(JsonElement? a, JsonElement? b) =>
        new[] { a, b }.Where(o => o is { ValueKind: JsonValueKind.Object }).SelectMany(o => o!.Value.EnumerateObject().Select(p => p.Name)).Distinct(StringComparer.Ordinal);

    private static string Value(JsonElement? values, string key) =>
        values is { ValueKind: JsonValueKind.Object } o && o.TryGetProperty(key, out var value)
            ? value.ValueKind switch
            {
                JsonValueKind.String => value.GetString()!,
                JsonValueKind.Null => None,
                _ => value.GetRawText(),
            }
            : None;

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>Which events: one namespace or model, some types (null: no filter).</summary>
    private sealed record Filter(string? Namespace, string? Model, IReadOnlyList<string>? Types)
    {
        public string Describe() =>
            (Model is not null ? $" of {Model}" : Namespace is not null ? $" in {Namespace}" : "") +
            (Types is { Count: > 0 } ? $" ({string.Join(", ", Types)})" : "");
    }
}
