using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Tests;

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
