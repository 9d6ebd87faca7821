using System.CommandLine;
using System.Globalization;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// Transition requests (moves into protected stages, of protected aliases): <c>berth requests [namespace]</c>,
/// <c>berth request show 12</c>, and the reviews <c>berth approve|reject|cancel 12 [--comment …]</c>.
/// </summary>
internal static class RequestCommands
{
    private static readonly string[] States =
        [RequestStates.Open, RequestStates.Applied, RequestStates.Rejected, RequestStates.Cancelled, RequestStates.Superseded, "all"];

    public static IEnumerable<Command> Create(CliApp app) =>
        [List(app), Request(app), Review(app, Verb.Approve), Review(app, Verb.Reject), Review(app, Verb.Cancel)];

    private static Command List(CliApp app)
    {
        var ns = new Argument<string?>("namespace") { Description = "Only the requests of this namespace (default: every namespace you may read).", Arity = ArgumentArity.ZeroOrOne };
        var state = new Option<string>("--state", "-s") { Description = "Requests in this state: open (default), applied, rejected, cancelled, superseded or all." };
        state.AcceptOnlyFromAmong(States);
        var command = new Command("requests", "List transition requests: version, target, requester, age, approvals and gate.") { ns, state };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var space = parse.GetValue(ns) is { } n ? CliContext.Namespace(n) : null;
            var wanted = parse.GetValue(state);
            var requests = await context.Client.ListRequestsAsync(space, wanted, cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(requests, CliJson.Context.ListRequestInfo);
                return ExitCodes.Success;
            }

            if (requests.Count == 0)
            {
                var which = wanted switch
                {
                    null or RequestStates.Open => "open ",
                    "all" => "",
                    _ => wanted + " ",
                };
                context.Output.Line($"No {which}requests{(space is null ? "" : " in " + space)}.");
                return ExitCodes.Success;
            }

            var now = DateTimeOffset.UtcNow;
            var showState = wanted is not (null or RequestStates.Open);
            List<string> headers = ["ID", "VERSION", "TARGET", "REQUESTER", "AGE", "APPROVALS", "GATE"];
            if (showState)
            {
                headers.Insert(1, "STATE");
            }

            context.Output.Table(headers, requests.Select(r =>
            {
                List<string> row =
                [
                    Number(r.Id),
                    VersionOf(r),
                    r.Target,
                    r.Requester,
                    TextFormat.Age(r.CreatedAt, now),
                    $"{Number(r.Approvals)}/{Number(r.RequiredApprovals)}",
                    r.Gate?.Summary ?? "-",
                ];
                if (showState)
                {
                    row.Insert(1, r.State);
                }

                return (IReadOnlyList<string>)row;
            }));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Request(CliApp app)
    {
        var id = IdArgument();
        var show = new Command("show", "Show a request: its state, approvals, gate result and reviews.") { id };
        app.SetAction(show, async (context, parse, cancellationToken) =>
        {
            Write(context, await context.Client.GetRequestAsync(parse.GetValue(id), cancellationToken), null);
            return ExitCodes.Success;
        });
        var command = new Command("request", "Show one transition request ('berth requests' lists them).");
        command.Subcommands.Add(show);
        return command;
    }

    private static Command Review(CliApp app, Verb verb)
    {
        var id = IdArgument();
        var comment = new Option<string>("--comment", "-m") { Description = "Why: recorded with the review and in the model's history." };
        var command = verb switch
        {
            Verb.Approve => new Command("approve", "Approve a request (approvers, not its requester); it is applied once enough approvals are in."),
            Verb.Reject => new Command("reject", "Reject a request (approvers); it is closed."),
            _ => new Command("cancel", "Withdraw a request (its requester or a namespace admin)."),
        };
        command.Arguments.Add(id);
        command.Options.Add(comment);
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var number = parse.GetValue(id);
            var text = parse.GetValue(comment);
            var request = verb switch
            {
                Verb.Approve => await context.Client.ApproveRequestAsync(number, text, cancellationToken),
                Verb.Reject => await context.Client.RejectRequestAsync(number, text, cancellationToken),
                _ => await context.Client.CancelRequestAsync(number, text, cancellationToken),
            };
            Write(context, request, Outcome(verb, request));
            return ExitCodes.Success;
        });
        return command;
    }

    private static string Outcome(Verb verb, RequestInfo r)
    {
        var id = "#" + Number(r.Id);
        return verb switch
        {
            Verb.Approve when r.State == RequestStates.Applied =>
                $"Approved request {id}: applied ({r.CloseReason}); {(r.Kind == "alias" ? $"alias {r.Alias} now points to {VersionOf(r)}" : $"{VersionOf(r)} is now in stage {r.Stage}")}.",
            Verb.Approve =>
                $"Approved request {id}: {Number(r.Approvals)} of {Number(r.RequiredApprovals)} approvals; it stays {r.State} until {Number(Math.Max(0, r.RequiredApprovals - r.Approvals))} more approve.",
            Verb.Reject => $"Rejected request {id}: {VersionOf(r)} does not move to {r.Target}.",
            _ => $"Cancelled request {id}: {VersionOf(r)} does not move to {r.Target}.",
        };
    }

    private static void Write(CliContext context, RequestInfo r, string? outcome)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(r, CliJson.Context.RequestInfo);
            return;
        }

        if (outcome is not null)
        {
            context.Output.Line(outcome);
            return;
        }

        context.Output.Title($"request #{Number(r.Id)}: {VersionOf(r)} -> {r.Target}");
        context.Output.Fields(
        [
            ("state", r.CloseReason is { } reason ? $"{r.State} ({reason})" : r.State),
            ("requester", r.Requester),
            ("opened", TextFormat.Time(r.CreatedAt)),
            ("comment", r.Comment),
            ("approvals", $"{Number(r.Approvals)} of {Number(r.RequiredApprovals)}"),
            ("gate", r.Gate?.Summary),
            ("closed", r.ClosedAt is { } at ? $"{TextFormat.Time(at)} by {r.ClosedBy}" : null),
        ], indent: 2);
        if (r.Reviews.Count > 0)
        {
            context.Output.Line("reviews:");
            context.Output.Table(
                ["REVIEWER", "DECISION", "TIME", "COMMENT"],
                r.Reviews.Select(v => (IReadOnlyList<string>)[v.Reviewer, v.Decision, TextFormat.Time(v.At), v.Comment ?? ""]),
                indent: 2);
        }
    }

    private static Argument<long> IdArgument() => new("id") { Description = "The request's number, e.g. 12 (see 'berth requests')." };

    private static string VersionOf(RequestInfo r) => $"{r.Namespace}/{r.Model}:{Number(r.Version)}";

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);

    private enum Verb
    {
        Approve,
        Reject,
        Cancel,
    }
}
