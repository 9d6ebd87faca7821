using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary><c>berth user add|ls|show|set|disable|enable|reset</c>: the server's users (server administrators).</summary>
internal static class UserCommands
{
    public static Command Create(CliApp app)
    {
        var command = new Command("user", "Add, list, change, disable and enable users, and reset their passwords (server administrators).");
        command.Subcommands.Add(Add(app));
        command.Subcommands.Add(List(app));
        command.Subcommands.Add(Show(app));
        command.Subcommands.Add(Set(app));
        command.Subcommands.Add(SetDisabled(app, disable: true));
        command.Subcommands.Add(SetDisabled(app, disable: false));
        command.Subcommands.Add(Reset(app));
        return command;
    }

    private static Command Add(CliApp app)
    {
        var name = NameArgument();
        var email = new Option<string>("--email") { Description = "The user's email address." };
        var displayName = new Option<string>("--display-name") { Description = "The name people see, e.g. \"Alice L\"." };
        var admin = new Option<bool>("--admin") { Description = "Make the user a server administrator." };
        var command = new Command("add", "Create a user; the one-time password is shown once and must be changed at the first sign-in.") { name, email, displayName, admin };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var created = await context.Client.CreateUserAsync(
                new CreateUserRequest(parse.GetValue(name)!, parse.GetValue(email), parse.GetValue(displayName), parse.GetValue(admin)),
                cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(created, CliJson.Context.CreatedUser);
                return ExitCodes.Success;
            }

            context.Output.Title($"Created user '{created.User.Name}'.");
            WriteFields(context.Output, created.User, brief: true);
            WritePassword(context.Output, created, "One-time password");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var command = new Command("ls", "List the users.");
        command.Aliases.Add("list");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var users = await context.Client.ListUsersAsync(cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(users, CliJson.Context.ListUserDetails);
                return ExitCodes.Success;
            }

            context.Output.Table(
                ["NAME", "DISPLAY NAME", "EMAIL", "ADMIN", "STATUS", "TEAMS", "LAST SIGN-IN"],
                users.Select(u => (IReadOnlyList<string>)
                [
                    u.Name,
                    u.DisplayName ?? "",
                    u.Email ?? "",
                    TextFormat.YesNo(u.IsAdmin),
                    Status(u),
                    TextFormat.List(u.Teams),
                    u.LastSignInAt is { } at ? TextFormat.ShortTime(at) : "-",
                ]));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Show(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("show", "Show a user: profile, status, teams, last sign-in.") { name };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var user = await context.Client.GetUserAsync(parse.GetValue(name)!, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(user, CliJson.Context.UserDetails);
            }
            else
            {
                context.Output.Title(user.Name);
                WriteFields(context.Output, user, brief: false);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Set(CliApp app)
    {
        var name = NameArgument();
        var email = new Option<string>("--email") { Description = "A new email address ('' removes it)." };
        var displayName = new Option<string>("--display-name") { Description = "A new display name ('' removes it)." };
        var admin = new Option<string>("--admin") { Description = "true: make the user a server administrator; false: no longer one." };
        admin.AcceptOnlyFromAmong("true", "false");
        var command = new Command("set", "Change a user's email, display name or administrator flag.") { name, email, displayName, admin };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var request = new UpdateUserRequest(parse.GetValue(email), parse.GetValue(displayName), parse.GetValue(admin) is { } a ? a == "true" : null);
            if (request is { Email: null, DisplayName: null, IsAdmin: null })
            {
                throw new UsageException("Nothing to change: give --email, --display-name or --admin true|false.");
            }

            var user = await context.Client.UpdateUserAsync(parse.GetValue(name)!, request, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(user, CliJson.Context.UserDetails);
            }
            else
            {
                context.Output.Title($"Updated user '{user.Name}'.");
                WriteFields(context.Output, user, brief: true);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command SetDisabled(CliApp app, bool disable)
    {
        var name = NameArgument();
        var command = disable
            ? new Command("disable", "Disable a user: their tokens stop working at once and they cannot sign in.") { name }
            : new Command("enable", "Enable a disabled user again (their tokens work again).") { name };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var user = await context.Client.UpdateUserAsync(parse.GetValue(name)!, new UpdateUserRequest(Disabled: disable), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(user, CliJson.Context.UserDetails);
            }
            else
            {
                context.Output.Line(disable
                    ? $"Disabled user {user.Name}: their tokens stopped working and they cannot sign in."
                    : $"Enabled user {user.Name}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Reset(CliApp app)
    {
        var name = NameArgument();
        var command = new Command("reset", "Give a user a new one-time password (shown once; to be changed at the next sign-in).") { name };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var reset = await context.Client.ResetPasswordAsync(parse.GetValue(name)!, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(reset, CliJson.Context.CreatedUser);
            }
            else
            {
                context.Output.Title($"Reset the password of '{reset.User.Name}'.");
                WritePassword(context.Output, reset, "New one-time password");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Argument<string> NameArgument() => new("name") { Description = "The user name, e.g. alice." };

    private static void WriteFields(Output output, UserDetails user, bool brief) =>
        output.Fields(
        [
            ("display name", user.DisplayName),
            ("email", user.Email),
            ("administrator", user.IsAdmin ? "yes" : brief ? null : "no"),
            ("status", brief ? null : Status(user)),
            ("password", brief ? null : Password(user)),
            ("signs in with", user.ExternalIssuer),
            ("teams", brief || user.Teams.Count == 0 ? null : TextFormat.List(user.Teams)),
            ("created", brief ? null : TextFormat.Time(user.CreatedAt)),
            ("last sign-in", brief ? null : user.LastSignInAt is { } at ? TextFormat.Time(at) : "never"),
        ], indent: 2);

    private static void WritePassword(Output output, CreatedUser created, string label)
    {
        output.Line();
        output.Line($"{label}, shown only this once; {created.User.Name} chooses a new one at the first sign-in ('berth login <server url> --user {created.User.Name}'):");
        output.Line();
        output.Line("    " + created.OneTimePassword);
        output.Line();
    }

    private static string Status(UserDetails user) =>
        user.Disabled ? "disabled" : user.MustChangePassword ? "one-time password" : "active";

    private static string Password(UserDetails user) =>
        !user.HasPassword ? "none" : user.MustChangePassword ? "one-time (must be changed at the next sign-in)" : "set";
}
