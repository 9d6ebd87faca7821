using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;

namespace Berth.Cli.Commands;

/// <summary><c>berth audit ls|verify|export</c>: the server's hash-chained audit log (server administrators).</summary>
internal static class AuditCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("audit", "Read, export and verify the audit log (server administrators).");
        command.Subcommands.Add(List(app));
        command.Subcommands.Add(Verify(app));
        command.Subcommands.Add(Export(app));
        return command;
    }

    private static Command List(CliApp app)
    {
        var filter = new Filter();
        var command = new Command("ls", "List audit entries, oldest first.");
        command.Aliases.Add("list");
        filter.AddTo(command);
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (since, until, ns) = filter.Read(parse);
            var entries = await context.Client.ListAuditAsync(since, until, ns, cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(entries, CliJson.Context.ListAuditEntryInfo);
            }
            else if (entries.Count == 0)
            {
                context.Output.Line("No audit entries match.");
            }
            else
            {
                context.Output.Table(
                    ["ID", "TIME", "ACTOR", "ACTION", "NAMESPACE", "TARGET", "DETAILS"],
                    entries.Select(e => (IReadOnlyList<string>)
                    [
                        e.Id.ToString(CultureInfo.InvariantCulture),
                        TextFormat.Time(e.At),
                        e.Actor,
                        e.Action,
                        e.Namespace ?? "-",
                        e.Target ?? "",
                        e.Details ?? "",
                    ]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Verify(CliApp app)
    {
        var command = new Command("verify", "Recompute the audit log's hash chain; exits 1 and names the first broken entry if it was changed.");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var result = await context.Client.VerifyAuditAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(result, CliJson.Context.AuditVerification);
            }

            var entries = TextFormat.Count((int)Math.Min(result.Entries, int.MaxValue), "entry", "entries");
            var elapsed = TextFormat.Seconds(TimeSpan.FromSeconds(result.Seconds));
            if (result.Valid)
            {
                if (!context.Output.Json)
                {
                    context.Output.Line($"audit log verified: {entries} in {elapsed}");
                }

                return ExitCodes.Success;
            }

            var broken = result.FirstBrokenId?.ToString(CultureInfo.InvariantCulture) ?? "?";
            Output.Error($"audit log broken at entry {broken}: {result.Problem}; checked {entries} in {elapsed}.");
            return ExitCodes.Failure;
        });
        return command;
    }

    private static Command Export(CliApp app)
    {
        var filter = new Filter();
        var command = new Command("export", "Write audit entries to stdout as JSON lines (one entry per line), streamed: berth audit export > audit.jsonl");
        filter.AddTo(command);
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var (since, until, ns) = filter.Read(parse);
            await using var stdout = Console.OpenStandardOutput();
            await context.Client.ExportAuditAsync(stdout, since, until, ns, cancellationToken);
            await stdout.FlushAsync(cancellationToken);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The filters <c>ls</c> and <c>export</c> share: a time range and a namespace.</summary>
    private sealed class Filter
    {
        private readonly Option<string> _since = new("--since") { HelpName = "time", Description = "Entries at or after this time (ISO 8601: 2026-01-01, 2026-03-01T12:00Z; UTC unless an offset is given)." };
        private readonly Option<string> _until = new("--until") { HelpName = "time", Description = "Entries before this time (ISO 8601, like --since)." };
        private readonly Option<string> _namespace = new("--namespace", "-n") { Description = "Only entries about this namespace." };

        public void AddTo(Command command)
        {
            command.Options.Add(_since);
            command.Options.Add(_until);
            command.Options.Add(_namespace);
        }

        public (DateTimeOffset? Since, DateTimeOffset? Until, string? Namespace) Read(ParseResult parse)
        {
            var since = InputParser.OptionalTime(parse.GetValue(_since), "--since");
            var until = InputParser.OptionalTime(parse.GetValue(_until), "--until");
            if (since is { } s && until is { } u && u <= s)
            {
                throw new UsageException("--until must be later than --since.");
            }

            return (since, until, parse.GetValue(_namespace) is { } ns ? CliContext.Namespace(ns) : null);
        }
    }
}
