using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary><c>berth team add|ls|show|rm</c> and <c>berth team member add|rm</c> (server administrators).</summary>
internal static class TeamCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("team", "Add, list, show and remove teams, and manage their members (server administrators).");
        command.Subcommands.Add(Add(app));
        command.Subcommands.Add(List(app));
        command.Subcommands.Add(Show(app));
        command.Subcommands.Add(Remove(app));
        command.Subcommands.Add(Members(app));
        return command;
    }

    private static Command Add(CliApp app)
    {
        var name = NameArgument();
        var description = new Option<string>("--description", "-d") { Description = "What the team is for." };
        var group = new Option<string>("--group") { Description = "An OIDC group whose members join the team when they sign in." };
        var command = new Command("add", "Create a team.") { name, description, group };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var team = await context.Client.CreateTeamAsync(new CreateTeamRequest(parse.GetValue(name)!, parse.GetValue(description), parse.GetValue(group)), cancellationToken);
            Write(context, team, $"Created team '{team.Name}'.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var command = new Command("ls", "List the teams.");
        command.Aliases.Add("list");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var teams = await context.Client.ListTeamsAsync(cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(teams, CliJson.Context.ListTeamInfo);
            }
            else if (teams.Count == 0)
            {
                context.Output.Line("No teams yet: 'berth team add <name>' creates one.");
            }
            else
            {
                context.Output.Table(
                    ["TEAM", "MEMBERS", "OIDC GROUP", "DESCRIPTION"],
                    teams.Select(t => (IReadOnlyList<string>)[t.Name, TextFormat.List(t.Members), t.ExternalGroup ?? "", TextFormat.Summary(t.Description)]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("show", "Show a team and its members.") { name };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var team = await context.Client.GetTeamAsync(parse.GetValue(name)!, cancellationToken);
            Write(context, team, team.Name);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("rm", "Delete a team; the roles it held in namespaces go with it.") { name };
        command.Aliases.Add("remove");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var team = parse.GetValue(name)!;
            await context.Client.DeleteTeamAsync(team, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new TeamRemovedOutput(team, true), CliJson.Context.TeamRemovedOutput);
            }
            else
            {
                context.Output.Line($"Deleted team {team}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Members(CliApp app)
    {
        var command = new Command("member", "Add users to a team or remove them.");
        command.Subcommands.Add(Member(app, add: true));
        command.Subcommands.Add(Member(app, add: false));
        return command;
    }

    private static Command Member(CliApp app, bool add)
    {
        var team = NameArgument();
        var user = new Argument<string>("user") { Description = "The user, e.g. alice." };
        var command = add
            ? new Command("add", "Add a user to a team.") { team, user }
            : new Command("rm", "Remove a user from a team.") { team, user };
        if (!add)
        {
            command.Aliases.Add("remove");
        }

        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var teamName = parse.GetValue(team)!;
            var userName = parse.GetValue(user)!;
            var result = add
                ? await context.Client.AddTeamMemberAsync(teamName, userName, cancellationToken)
                : await context.Client.RemoveTeamMemberAsync(teamName, userName, cancellationToken);
            Write(context, result, add ? $"Added {userName} to team {result.Name}." : $"Removed {userName} from team {result.Name}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> NameArgument() => new("team") { Description = "The team, e.g. ml-platform." };

    private static void Write(CliContext context, TeamInfo team, string title)
    {
        if (context.Output.Json)
        {
            context.Output.WriteJson(team, CliJson.Context.TeamInfo);
            return;
        }

        context.Output.Title(title);
        context.Output.Fields(
        [
            ("description", string.IsNullOrWhiteSpace(team.Description) ? null : team.Description.Trim()),
            ("oidc group", team.ExternalGroup),
            ("members", team.Members.Count == 0 ? "(none)" : TextFormat.List(team.Members)),
            ("created", TextFormat.Time(team.CreatedAt)),
        ], indent: 2);
    }
}
