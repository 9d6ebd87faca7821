using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

// Engine-independent (what the server logs): run in scripts/test.sh's SQLite pass only (AssemblyTraits.cs).
[Trait("Database", "sqlite")]
public sealed class LoggingTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task LogsNeverContainATokenEvenAtTheMostDetailedLevel()
    {
        var logs = new CapturingLoggerProvider();
        await using var server = await TestServer.StartAsync(services => services.AddLogging(b => b.AddProvider(logs).AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace)));
        using var model = new ModelFolder(("m.bin", 1000));
        await server.Client.PushAsync(model.Root, "logs", "model", new PushOptions(), cancellationToken: Ct);
        var created = await server.Client.CreateTokenAsync(new CreateTokenRequest("logged?"), Ct);
        using var bad = server.NewHttp(created.Token[..^1] + "x");
        using var refused = await bad.GetAsync("/api/v1/namespaces", Ct);
        using var ok = server.NewHttp(created.Token);
        using var accepted = await ok.GetAsync("/api/v1/namespaces", Ct);

        Assert.NotEmpty(logs.Lines);
        foreach (var secret in new[] { server.AdminToken, created.Token, created.Token[..^1] + "x" })
        {
            Assert.DoesNotContain(logs.Lines, line => line.Contains(secret[6..], StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task AFloodOfBadTokensWritesOneLinePerReasonAndLaterCountsWhatItLeftOut()
    {
        var logs = new CapturingLoggerProvider();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var server = await TestServer.StartAsync(services =>
        {
            services.AddSingleton<TimeProvider>(clock);
            // The server's own log levels, as an operator has them by default.
            services.AddLogging(b => b.AddProvider(logs));
        }, "--RateLimits:Enabled=false");
        var before = logs.Lines.Count;

        const int Flood = 300;
        using var bad = server.NewHttp("berth_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
        using var malformed = server.NewHttp("not-a-token");
        await Parallel.ForAsync(0, Flood, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = Ct }, async (i, ct) =>
        {
            using var response = await (i % 2 == 0 ? bad : malformed).GetAsync("/api/v1/namespaces", ct);
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, response.StatusCode);
        });

        var flood = logs.Lines.Skip(before).ToList();
        Assert.True(flood.Count <= 4, $"{flood.Count} lines for {Flood} refused requests:\n{string.Join('\n', flood.Take(10))}");
        Assert.Single(flood, l => l.Contains("(token_invalid:", StringComparison.Ordinal));
        Assert.Single(flood, l => l.Contains("(token_malformed:", StringComparison.Ordinal));

        // The next refusal after the interval is logged, with the count of those that were not.
        clock.Advance(TimeSpan.FromSeconds(61));
        using (var again = await bad.GetAsync("/api/v1/namespaces", Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, again.StatusCode);
        }

        var later = logs.Lines.Skip(before + flood.Count).Where(l => l.Contains("(token_invalid:", StringComparison.Ordinal)).ToList();
        Assert.Contains($"; {Flood / 2 - 1} more refusals for this reason since the last such line were not logged", Assert.Single(later), StringComparison.Ordinal);
    }

    [Fact]
    public async Task ALevelConfiguredForACategoryOverridesTheBuiltInDefault()
    {
        const string Sql = "Microsoft.EntityFrameworkCore.Database.Command";
        const string Requests = "Microsoft.AspNetCore";
        await using (var defaults = await TestServer.StartAsync())
        {
            var factory = defaults.Services.GetRequiredService<ILoggerFactory>();
            Assert.False(factory.CreateLogger(Sql).IsEnabled(LogLevel.Critical));
            Assert.False(factory.CreateLogger(Requests).IsEnabled(LogLevel.Information));
            Assert.True(factory.CreateLogger(Requests).IsEnabled(LogLevel.Warning));
        }

        await using var configured = await TestServer.StartAsync($"--Logging:LogLevel:{Sql}=Information", $"--Logging:LogLevel:{Requests}=Information");
        var logging = configured.Services.GetRequiredService<ILoggerFactory>();
        Assert.True(logging.CreateLogger(Sql).IsEnabled(LogLevel.Information));
        Assert.False(logging.CreateLogger(Sql).IsEnabled(LogLevel.Debug));
        Assert.True(logging.CreateLogger(Requests).IsEnabled(LogLevel.Information));
    }
}
