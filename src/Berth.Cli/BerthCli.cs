using System.CommandLine;
using System.CommandLine.Invocation;
using Berth.Cli.Commands;
using Berth.Cli.Infrastructure;

namespace Berth.Cli;

/// <summary>The <c>berth</c> command line: the CLI for the registry and, with <c>serve</c>, the server itself.</summary>
internal static class BerthCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        var app = new CliApp();
        var root = new RootCommand("Berth: a self-hosted model registry. 'berth serve' runs the server; the other commands talk to one.");
        root.Options.Add(app.Json);
        foreach (var command in (IEnumerable<Command>)
        [
            .. AuthCommands.Create(app),
            TokenCommands.Create(app),
            PushCommand.Create(app),
            PullCommand.Create(app),
            ListCommand.Create(app),
            ShowCommand.Create(app),
            ScanCommand.Create(app),
            InsightCommands.Create(app),
            AliasCommands.Create(app),
            StageCommand.Create(app),
            TagCommand.Create(app),
            EvalCommand.Create(app),
            SearchCommand.Create(app),
            RemoveCommand.Create(app),
            HistoryCommand.Create(app),
            .. RequestCommands.Create(app),
            MemberCommands.Create(app),
            PolicyCommands.Create(app),
            UserCommands.Create(app),
            TeamCommands.Create(app),
            AuditCommands.Create(app),
            GcCommand.Create(app),
            FsckCommand.Create(app),
            RetentionCommands.Create(app),
            QuotaCommands.Create(app),
            WebhookCommands.Create(app),
            EventsCommand.Create(app),
            DeployCommands.Create(app),
            .. RunCommands.Create(app),
            ServeCommand.Create(),
            ServeModelCommand.Create(app),
            BackupCommands.Backup(app),
            BackupCommands.Restore(app),
        ])
        {
            root.Subcommands.Add(command);
        }

        var parse = root.Parse(args);
        if (parse.Action is ParseErrorAction)
        {
            return UsageErrors(parse);
        }

        // 'berth run exec' handles termination signals itself: it passes them to the command it runs and ends the run
        // after it (System.CommandLine would cancel the action and end berth two seconds later).
        // 'berth serve-model' gets time on SIGTERM to finish the requests in flight and record its deployment retired.
        return parse.CommandResult.Command.Name == "exec" && parse.CommandResult.Parent is System.CommandLine.Parsing.CommandResult { Command.Name: "run" }
            ? await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null })
            : parse.CommandResult.Command.Name == "serve-model"
                ? await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = TimeSpan.FromSeconds(30) })
                : await parse.InvokeAsync();
    }

    /// <summary>Parse errors: one line each on stderr and exit code 2 (the help text is one --help away).</summary>
    private static int UsageErrors(ParseResult parse)
    {
        foreach (var error in parse.Errors)
        {
            Output.Error(error.Message);
        }

        var path = new List<string>();
        for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
        {
            path.Insert(0, result.Command.Name);
        }

        path[0] = "berth";
        Output.Hint($"run '{string.Join(' ', path)} --help' for usage.");
        return ExitCodes.Usage;
    }
}
