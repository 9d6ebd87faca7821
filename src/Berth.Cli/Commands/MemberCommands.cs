using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth member add|rm|ls</c>: who holds which role in a namespace. <c>member add acme alice writer</c>
/// grants a user a role; <c>member add acme --team ml-platform approver</c> grants a team one.
/// </summary>
internal static class MemberCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("member", "Grant, take away and list the roles of users and teams in a namespace (reader, writer, approver, admin).");
        command.Subcommands.Add(Add(app));
        command.Subcommands.Add(Remove(app));
        command.Subcommands.Add(List(app));
        return command;
    }

    private static Command Add(CliApp app)
    {
        var ns = NamespaceArgument();
        var target = new Argument<string[]>("user-and-role")
        {
            Description = $"The user and the role (alice writer), or only the role with --team. Roles: {TextFormat.List(InputParser.RoleNames)}.",
            Arity = new ArgumentArity(1, 2),
        };
        var team = TeamOption("Grant the role to this team instead of a user.");
        var command = new Command("add", "Grant a role in a namespace to a user or a team (or change the role they have).") { ns, target, team };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var space = CliContext.Namespace(parse.GetValue(ns)!);
            var words = parse.GetValue(target)!;
            var teamName = parse.GetValue(team);
            var request = (teamName, words) switch
            {
                (null, [var user, var role]) => new SetMemberRequest(InputParser.Role(role), User: user),
                (not null, [var role]) => new SetMemberRequest(InputParser.Role(role), Team: teamName),
                (null, _) => throw new UsageException("Name the user and the role (berth member add acme alice writer), or a team with --team (berth member add acme --team ml-platform approver)."),
                _ => throw new UsageException("With --team, give only the role (berth member add acme --team ml-platform approver)."),
            };
            var member = await context.Client.SetMemberAsync(space, request, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(member, CliJson.Context.MemberInfo);
            }
            else
            {
                context.Output.Line($"{Who(member)} is {Article(member.Role)} {member.Role} in {member.Namespace}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Remove(CliApp app)
    {
        var ns = NamespaceArgument();
        var user = new Argument<string?>("user") { Description = "The user whose role to take away (or use --team).", Arity = ArgumentArity.ZeroOrOne };
        var team = TeamOption("Take the role of this team away instead of a user's.");
        var command = new Command("rm", "Take a user's or a team's role in a namespace away.") { ns, user, team };
        command.Aliases.Add("remove");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var space = CliContext.Namespace(parse.GetValue(ns)!);
            var userName = parse.GetValue(user);
            var teamName = parse.GetValue(team);
            if ((userName is null) == (teamName is null))
            {
                throw new UsageException("Name a user (berth member rm acme alice) or a team (berth member rm acme --team ml-platform), not both.");
            }

            await context.Client.RemoveMemberAsync(space, userName, teamName, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new MemberRemovedOutput(space, userName, teamName, true), CliJson.Context.MemberRemovedOutput);
            }
            else
            {
                context.Output.Line($"{(userName is not null ? $"User {userName}" : $"Team {teamName}")} no longer has a role in {space}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var ns = NamespaceArgument();
        var command = new Command("ls", "List the users and teams with a role in a namespace.") { ns };
        command.Aliases.Add("list");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var space = CliContext.Namespace(parse.GetValue(ns)!);
            var members = await context.Client.ListMembersAsync(space, cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(members, CliJson.Context.ListMemberInfo);
            }
            else if (members.Count == 0)
            {
                context.Output.Line($"Nobody has a role in {space} (server administrators may do everything).");
            }
            else
            {
                context.Output.Table(
                    ["MEMBER", "ROLE", "GRANTED", "BY"],
                    members.Select(m => (IReadOnlyList<string>)[m.User is { } u ? $"user {u}" : $"team {m.Team}", m.Role, TextFormat.ShortTime(m.GrantedAt), m.GrantedBy]));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> NamespaceArgument() => new("namespace") { Description = "The namespace, e.g. acme." };

    private static Option<string> TeamOption(string description) => new("--team") { Description = description };

    private static string Who(MemberInfo member) => member.User is { } user ? $"User {user}" : $"Team {member.Team}";

    private static string Article(string role) => role is Roles.Admin or Roles.Approver ? "an" : "a";
}
