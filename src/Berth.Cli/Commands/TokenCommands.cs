using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary><c>berth token create|list|revoke</c>: the caller's API tokens (administrators also create them for others).</summary>
internal static class TokenCommands
{
    private static readonly string[] ScopeNames = ["read", "write", "admin"];

    /// <summary>The name of tokens the CLI creates when none is given: where they are used.</summary>
    public static string DefaultName => $"berth-cli@{Environment.MachineName.ToLowerInvariant()}";

    public static Command Create(CliApp app)
    {
        var command = new Command("token", "Create, list and revoke your API tokens.");
        command.Subcommands.Add(CreateToken(app));
        command.Subcommands.Add(List(app));
        command.Subcommands.Add(Revoke(app));
        return command;
    }

    private static Command CreateToken(CliApp app)
    {
        var name = new Option<string>("--name") { Description = "A name that says where the token is used (default: berth-cli@<host>)." };
        var scopes = new Option<string[]>("--scope")
        {
            Description = "read, write or admin; repeat for several (default: the scopes of the token you use).",
            AllowMultipleArgumentsPerToken = true,
        };
        scopes.AcceptOnlyFromAmong(ScopeNames);
        var days = new Option<int?>("--expires-in-days")
        {
            Description = "Expire the token after this many days, at most 3650 and never after the token you use (default: when the token you use expires; never if it does not).",
        };
        days.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError("--expires-in-days must be a positive number of days.");
            }
        });
        var expires = new Option<string>("--expires") { HelpName = "time", Description = "Expire the token at this date or time (ISO 8601: 2026-12-31, 2026-12-31T18:00Z; UTC unless an offset is given), never after the token you use." };
        var user = new Option<string>("--user") { Description = "Create the token for this user (server administrators only; default: yourself)." };
        var command = new Command("create", "Create an API token; its secret is shown once.") { name, scopes, days, expires, user };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            if (parse.GetValue(days) is not null && parse.GetValue(expires) is not null)
            {
                throw new UsageException("Give either --expires-in-days or --expires, not both.");
            }

            var request = new CreateTokenRequest(
                parse.GetValue(name) ?? DefaultName,
                parse.GetValue(scopes) is { Length: > 0 } s ? s.Distinct(StringComparer.Ordinal).ToList() : null,
                parse.GetValue(days),
                InputParser.OptionalTime(parse.GetValue(expires), "--expires"),
                parse.GetValue(user));
            var created = await context.Client.CreateTokenAsync(request, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(created, CliJson.Context.CreatedToken);
                return ExitCodes.Success;
            }

            var info = created.Info;
            context.Output.Title($"Created token '{info.Name}' (id {info.Id}).");
            context.Output.Fields(
            [
                ("user", info.User),
                ("scopes", TextFormat.List(info.Scopes)),
                ("expires", info.ExpiresAt is { } at ? TextFormat.Time(at) : "never"),
            ]);
            context.Output.Line();
            context.Output.Line("The secret is shown only this once; store it now:");
            context.Output.Line();
            context.Output.Line("    " + created.Token);
            context.Output.Line();
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command List(CliApp app)
    {
        var all = new Option<bool>("--all") { Description = "Include revoked tokens." };
        var command = new Command("list", "List your API tokens.") { all };
        command.Aliases.Add("ls");
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var tokens = await context.Client.ListTokensAsync(parse.GetValue(all), cancellationToken).ToListAsync(cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(tokens, CliJson.Context.ListTokenInfo);
                return ExitCodes.Success;
            }

            if (tokens.Count == 0)
            {
                context.Output.Line("No tokens.");
                return ExitCodes.Success;
            }

            context.Output.Table(
                ["ID", "NAME", "PREFIX", "SCOPES", "CREATED", "EXPIRES", "LAST USED", "STATUS"],
                tokens.Select(t => (IReadOnlyList<string>)
                [
                    t.Id.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    t.Name,
                    t.Prefix + "…",
                    string.Join(",", t.Scopes),
                    TextFormat.ShortTime(t.CreatedAt),
                    t.ExpiresAt is { } e ? TextFormat.ShortTime(e) : "never",
                    t.LastUsedAt is { } u ? TextFormat.ShortTime(u) : "-",
                    Status(t),
                ]));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Revoke(CliApp app)
    {
        var id = new Argument<long>("id") { Description = "The token's id (see 'berth token list')." };
        var command = new Command("revoke", "Revoke one of your tokens, and every token created with it; they stop working at once.") { id };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var revoked = await context.Client.RevokeTokenAsync(parse.GetValue(id), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(revoked, CliJson.Context.TokenInfo);
            }
            else
            {
                context.Output.Line($"Revoked token {revoked.Id} ('{revoked.Name}', {revoked.Prefix}…).");
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static string Status(TokenInfo token) =>
        token.RevokedAt is not null ? "revoked" :
        token.ExpiresAt is { } e && e <= DateTimeOffset.UtcNow ? "expired" : "active";
}
