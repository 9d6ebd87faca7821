using System.Net;
using System.Net.Http.Headers;
using Berth.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// What a replica needs that is not in the shared database and blob store: nothing. The administrator's token can be
/// the operator's (so no replica's data folder holds it), and the data-protection key ring lives in the database.
/// </summary>
public sealed class ReplicaStateTests
{
    private const string ConfiguredToken = "berth_abcdefghijklmnopqrstuvwxyz234567abcdefghijklmnop";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AConfiguredAdminTokenBecomesTheAdministratorsAndIsWrittenNowhere()
    {
        var data = TempFolder.Create("berth-replica");
        await using var database = await TestDatabase.CreateAsync(data, Ct);
        var tokenFile = Path.Combine(TempFolder.Create("berth-secret"), "token");
        await File.WriteAllTextAsync(tokenFile, ConfiguredToken + "\n", Ct);
        await using var app = await StartAsync(data, database, "--admin-token-file", tokenFile);
        try
        {
            Assert.False(File.Exists(Path.Combine(data, ServerSettings.AdminTokenFile)));
            using var http = Http(app, ConfiguredToken);
            var whoami = await http.GetStringAsync("/api/v1/whoami", Ct);
            Assert.Contains("\"admin\"", whoami, StringComparison.Ordinal);

            using var stranger = Http(app, "berth_" + new string('q', 48));
            Assert.Equal(HttpStatusCode.Unauthorized, (await stranger.GetAsync("/api/v1/whoami", Ct)).StatusCode);
        }
        finally
        {
            await app.StopAsync(Ct);
            TempFolder.Delete(data);
        }
    }

    [Fact]
    public async Task ATokenConfiguredAfterTheFirstStartChangesNothing()
    {
        var data = TempFolder.Create("berth-replica");
        await using var database = await TestDatabase.CreateAsync(data, Ct);
        try
        {
            await using (var first = await StartAsync(data, database))
            {
                await first.StopAsync(Ct);
            }

            var generated = (await File.ReadAllTextAsync(Path.Combine(data, ServerSettings.AdminTokenFile), Ct)).Trim();
            await using var second = await StartAsync(data, database, "--Bootstrap:AdminToken", ConfiguredToken);
            using var configured = Http(second, ConfiguredToken);
            using var original = Http(second, generated);
            Assert.Equal(HttpStatusCode.Unauthorized, (await configured.GetAsync("/api/v1/whoami", Ct)).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await original.GetAsync("/api/v1/whoami", Ct)).StatusCode);
            await second.StopAsync(Ct);
        }
        finally
        {
            TempFolder.Delete(data);
        }
    }

    [Fact]
    public async Task ReplicasShareOneDataProtectionKeyRingInTheDatabase()
    {
        // On PostgreSQL each replica has its own data folder; SQLite lives in the data folder, so there they share it.
        var dataA = TempFolder.Create("berth-replica");
        var dataB = TestDatabase.IsPostgres ? TempFolder.Create("berth-replica") : dataA;
        await using var database = await TestDatabase.CreateAsync(dataA, Ct);
        // The keys are encrypted at rest with a key file: every replica gets the same one (here, the first one's).
        var keyFile = "--DataProtection:KeyFile=" + Path.Combine(dataA, "data-protection.key");
        await using var a = await StartAsync(dataA, database, "--admin-token-file", await WriteTokenAsync(), keyFile);
        await using var b = await StartAsync(dataB, database, "--admin-token-file", await WriteTokenAsync(), keyFile);
        try
        {
            var protectedByA = a.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("replica-test").Protect("across replicas");
            var unprotectedByB = b.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("replica-test").Unprotect(protectedByA);

            Assert.Equal("across replicas", unprotectedByB);
            Assert.True(Convert.ToInt64(await database.ScalarAsync("SELECT count(*) FROM data_protection_keys", Ct), System.Globalization.CultureInfo.InvariantCulture) >= 1);
            Assert.False(Directory.Exists(Path.Combine(dataA, "keys")));
            Assert.False(Directory.Exists(Path.Combine(dataB, "keys")));
        }
        finally
        {
            await a.StopAsync(Ct);
            await b.StopAsync(Ct);
            TempFolder.Delete(dataA);
            TempFolder.Delete(dataB);
        }
    }

    private static async Task<string> WriteTokenAsync()
    {
        var file = Path.Combine(TempFolder.Create("berth-secret"), "token");
        await File.WriteAllTextAsync(file, ConfiguredToken, Ct);
        return file;
    }

    private static async Task<WebApplication> StartAsync(string data, TestDatabase database, params string[] extra)
    {
        var app = BerthServer.Build(["--data", data, "--urls", "http://127.0.0.1:0", .. database.ServerArgs, .. extra]);
        await BerthServer.StartAsync(app);
        return app;
    }

    private static HttpClient Http(WebApplication app, string token)
    {
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var http = new HttpClient { BaseAddress = new Uri(address) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }
}
