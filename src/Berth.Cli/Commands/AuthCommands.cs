using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;

namespace Berth.Cli.Commands;

/// <summary><c>berth login</c>, <c>berth logout</c>, <c>berth whoami</c> and <c>berth passwd</c>.</summary>
internal static class AuthCommands
{
    public static IEnumerable<Command> Create(CliApp app) => [Login(app), Logout(app), WhoAmI(app), Passwd(app)];

    private static Command Login(CliApp app)
    {
        var server = new Argument<string>("server") { Description = "The Berth server, e.g. http://127.0.0.1:8282." };
        var token = new Option<string>("--token", "-t") { Description = "An API token (berth_…). Default: BERTH_TOKEN." };
        var tokenStdin = new Option<bool>("--token-stdin") { Description = "Read the token from stdin (keeps it out of the shell history)." };
        var user = new Option<string>("--user", "-u") { Description = "Sign in with this user's password instead of a token; the server issues a session token, which is saved." };
        var passwordStdin = new Option<bool>("--password-stdin")
        {
            Description = "With --user: read the password from stdin; if it is a one-time password, the new password is the next line.",
        };
        var ns = new Option<string>("--namespace", "-n") { Description = "Default namespace for references that leave it out (fraud:3 = acme/fraud:3)." };
        var command = new Command("login", "Check a token (or sign in with a password) against a server and save both (and a default namespace) in the config file.")
        {
            server, token, tokenStdin, user, passwordStdin, ns,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var address = CliContext.ParseServer(parse.GetValue(server)!, "server");
            var defaultNamespace = parse.GetValue(ns) is { } n ? CliContext.Namespace(n) : null;
            var url = address.AbsoluteUri.TrimEnd('/');
            var userName = parse.GetValue(user);
            if (userName is null && parse.GetValue(passwordStdin))
            {
                throw new UsageException("--password-stdin signs in with a password: name the user with --user <name>.");
            }

            if (userName is not null && (parse.GetValue(token) is not null || parse.GetValue(tokenStdin)))
            {
                throw new UsageException("Log in either with a token (--token, --token-stdin) or with a password (--user), not both.");
            }

            var passwordChanged = false;
            string secret;
            if (userName is null)
            {
                secret = await ReadTokenAsync(parse.GetValue(token), parse.GetValue(tokenStdin), cancellationToken);
            }
            else
            {
                (secret, passwordChanged) = await SignInAsync(url, userName, new PasswordInput(context.Output, parse.GetValue(passwordStdin)), cancellationToken);
            }

            using var client = CliContext.CreateClient(url, secret);
            var me = await client.WhoAmIAsync(cancellationToken);
            if (me.Anonymous)
            {
                throw new CliException($"The server at {url} did not recognise the token.");
            }

            context.Config.Save(new CliConfig(url, secret, defaultNamespace));
            WarnAboutOverrides(url);
            if (context.Output.Json)
            {
                context.Output.WriteJson(me, CliJson.Context.WhoAmI);
                return ExitCodes.Success;
            }

            context.Output.Title($"Logged in to {url} as {Describe(me)}.");
            context.Output.Fields(
            [
                ("token", me.Token is { } t ? $"{t.Name} ({t.Prefix}…), scopes {TextFormat.List(t.Scopes)}" : null),
                ("expires", userName is not null && me.Token is { ExpiresAt: { } expires } ? TextFormat.Time(expires) : null),
                ("password", passwordChanged ? "changed (the one-time password no longer works)" : null),
                ("default namespace", defaultNamespace ?? "(none: write namespace/model)"),
                ("saved to", context.Config.Path),
            ]);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Logout(CliApp app)
    {
        var revoke = new Option<bool>("--revoke") { Description = "Also revoke the token on the server, so that no copy of it works any more." };
        var command = new Command("logout", "Remove the saved token (the server address and default namespace stay).") { revoke };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var saved = context.Saved;
            var revoked = false;
            if (parse.GetValue(revoke) && saved is { Server: { } server, Token: { } token })
            {
                using var client = CliContext.CreateClient(server, token);
                var me = await client.WhoAmIAsync(cancellationToken);
                if (me.Token is { } info)
                {
                    await client.RevokeTokenAsync(info.Id, cancellationToken);
                    revoked = true;
                }
            }

            var loggedOut = saved.Token is not null;
            var rest = saved with { Token = null };
            if (rest.IsEmpty)
            {
                context.Config.Delete();
            }
            else if (loggedOut)
            {
                context.Config.Save(rest);
            }

            if (context.Output.Json)
            {
                context.Output.WriteJson(new LogoutOutput(context.Config.Path, loggedOut, revoked), CliJson.Context.LogoutOutput);
            }
            else if (loggedOut)
            {
                context.Output.Line($"Logged out of {saved.Server}: removed the token from {context.Config.Path}{(revoked ? " and revoked it on the server" : "")}.");
            }
            else
            {
                context.Output.Line("Not logged in: no token is saved.");
            }

            if (CliPaths.Variable(CliContext.TokenVariable) is not null)
            {
                Output.Warning($"{CliContext.TokenVariable} is still set in the environment; commands keep using it.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Command WhoAmI(CliApp app)
    {
        var command = new Command("whoami", "Show the user and token the server sees.");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var me = await context.Client.WhoAmIAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(me, CliJson.Context.WhoAmI);
                return ExitCodes.Success;
            }

            context.Output.Title(Describe(me));
            context.Output.Fields(
            [
                ("server", context.Server),
                ("token", me.Token is { } t ? $"{t.Name} ({t.Prefix}…, id {t.Id})" : null),
                ("scopes", me.Token is { } s ? TextFormat.List(s.Scopes) : null),
                ("expires", me.Token is { } e ? e.ExpiresAt is { } at ? TextFormat.Time(at) : "never" : null),
                ("default namespace", context.DefaultNamespace),
            ]);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Passwd(CliApp app)
    {
        var passwordStdin = new Option<bool>("--password-stdin") { Description = "Read the current password, then the new one, from stdin (one per line)." };
        var command = new Command("passwd", "Change your password (that of the user you are logged in as).") { passwordStdin };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var me = await context.Client.WhoAmIAsync(cancellationToken);
            if (me.Anonymous)
            {
                throw new CliException("Not logged in: 'berth passwd' changes the password of the user you are logged in as ('berth login <server url> --user <name>').");
            }

            var passwords = new PasswordInput(context.Output, parse.GetValue(passwordStdin));
            var current = await passwords.ReadAsync($"Current password of {me.User.Name}:", "the current password", cancellationToken);
            var next = await passwords.ReadNewAsync("New password:", "the new password", cancellationToken);
            await context.Client.ChangePasswordAsync(new ChangePasswordRequest(current, next), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(new PasswordChangedOutput(me.User.Name, true), CliJson.Context.PasswordChangedOutput);
            }
            else
            {
                context.Output.Line($"Changed the password of {me.User.Name}.");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>
    /// Password sign-in: the server answers with a session token. A one-time password must be replaced in
    /// the same sign-in, so when the server asks for that, the new password is read and the sign-in repeated.
    /// </summary>
    private static async Task<(string Token, bool PasswordChanged)> SignInAsync(string url, string user, PasswordInput passwords, CancellationToken cancellationToken)
    {
        var password = await passwords.ReadAsync($"Password of {user}:", "the password", cancellationToken);
        using var client = CliContext.CreateClient(url, null);
        try
        {
            var session = await client.SignInAsync(new SignInRequest(user, password, TokenName: TokenCommands.DefaultName), cancellationToken);
            return (session.Session.Token, false);
        }
        catch (BerthProblemException e) when (e.Code == ErrorCodes.PasswordChangeRequired.Code)
        {
            passwords.Tell($"{user} has a one-time password: choose a new one.");
            var newPassword = await passwords.ReadNewAsync("New password:", "a new password (the current one is a one-time password)", cancellationToken);
            var session = await client.SignInAsync(new SignInRequest(user, password, newPassword, TokenCommands.DefaultName), cancellationToken);
            return (session.Session.Token, true);
        }
    }

    private static string Describe(WhoAmI me) =>
        me.Anonymous ? "anonymous (no token)" :
        $"{me.User.Name}{(me.User.DisplayName is { Length: > 0 } d && d != me.User.Name ? $" ({d})" : "")}{(me.User.IsAdmin ? ", server administrator" : "")}";

    private static async Task<string> ReadTokenAsync(string? option, bool fromStdin, CancellationToken cancellationToken)
    {
        if (option is not null && fromStdin)
        {
            throw new UsageException("Give the token either with --token or with --token-stdin, not both.");
        }

        var token = fromStdin
            ? (await Console.In.ReadToEndAsync(cancellationToken)).Trim()
            : option ?? CliPaths.Variable(CliContext.TokenVariable);
        return string.IsNullOrWhiteSpace(token)
            ? throw new UsageException($"berth login needs a token (--token <token>, --token-stdin or {CliContext.TokenVariable}) or a user to sign in as (--user <name>). 'berth serve' prints the administrator's token on first start and saves it in <data>/admin-token.")
            : token;
    }

    private static void WarnAboutOverrides(string url)
    {
        if (CliPaths.Variable(CliContext.UrlVariable) is { } envUrl && !CliContext.SameServer(envUrl, url))
        {
            Output.Warning($"{CliContext.UrlVariable}={envUrl} is set and overrides the saved server.");
        }
    }
}
