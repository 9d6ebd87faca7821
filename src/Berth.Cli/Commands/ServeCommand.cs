using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Server.Hosting;

namespace Berth.Cli.Commands;

internal static class ServeCommand
{
    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = $"Data folder (the SQLite database, blobs and the first admin token, unless --db, --blobs or --admin-token-file say otherwise). Default: ./{ServerSettings.DefaultData}, or BERTH_DATA." };
        var db = new Option<string>("--db") { Description = "Metadata database: a PostgreSQL connection string (\"Host=…;Database=…;Username=…;Password=…\"), or BERTH_DB. Default: SQLite in the data folder." };
        var blobs = new Option<string>("--blobs") { Description = "Blob store: \"s3://bucket/prefix?endpoint=…&region=…&path-style=true\" for S3-compatible storage (see docs/storage-layout.md), or an absolute folder; also BERTH_BLOBS. Default: the data folder." };
        var urls = new Option<string>("--urls") { Description = $"Addresses to listen on, ';'-separated. Default: {ServerSettings.DefaultUrls}, or BERTH_URLS." };
        var anonymous = new Option<bool>("--anonymous-read") { Description = "Let requests without a token list, show and pull (writes always need a token)." };
        var noFsync = new Option<bool>("--no-fsync") { Description = "Do not fsync blobs (only for throwaway data: a power loss can then lose acknowledged uploads)." };
        var adminTokenFile = new Option<string>("--admin-token-file") { Description = "On first start, create the administrator with the token in this file ('berth_' and 48 characters of a-z, 2-7) instead of a random one; also BERTH_Bootstrap__AdminToken. For replicas and orchestrators (docs/deploy.md)." };
        var oidcIssuer = new Option<string>("--oidc-issuer") { Description = "Accept bearer JWTs of this OpenID Connect issuer (see docs/oidc.md; also BERTH_Oidc__Issuer)." };
        var oidcAudience = new Option<string>("--oidc-audience") { Description = "The audience (client id) those JWTs must be issued for (also BERTH_Oidc__Audience)." };
        var command = new Command("serve", "Run the Berth server (SQLite and a local folder unless configured otherwise: --db for PostgreSQL, --blobs for S3).") { data, db, blobs, urls, anonymous, noFsync, adminTokenFile, oidcIssuer, oidcAudience };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var args = new List<string>();
            if (parse.GetValue(data) is { } d) args.AddRange(["--data", d]);
            if (parse.GetValue(db) is { } connectionString) args.AddRange(["--db", connectionString]);
            if (parse.GetValue(blobs) is { } b) args.AddRange(["--blobs", b]);
            if (parse.GetValue(urls) is { } u) args.AddRange(["--urls", u]);
            if (parse.GetValue(anonymous)) args.AddRange(["--anonymous-read", "true"]);
            if (parse.GetValue(noFsync)) args.AddRange(["--no-fsync", "true"]);
            if (parse.GetValue(adminTokenFile) is { } tokenFile) args.AddRange(["--admin-token-file", tokenFile]);
            if (parse.GetValue(oidcIssuer) is { } issuer) args.AddRange(["--oidc-issuer", issuer]);
            if (parse.GetValue(oidcAudience) is { } audience) args.AddRange(["--oidc-audience", audience]);
            try
            {
                await using var app = BerthServer.Build([.. args]);
                await BerthServer.RunAsync(app, cancellationToken);
                return ExitCodes.Success;
            }
            catch (StartupException e)
            {
                Output.Error(e.Message);
                return ExitCodes.Failure;
            }
        });
        return command;
    }
}
