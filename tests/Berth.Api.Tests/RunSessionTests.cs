using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Core.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>The SDK's buffered run logging (<see cref="RunSession"/>) against a real server that goes away and comes back.</summary>
public sealed class RunSessionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task NoPointIsLostOrDuplicatedWhenTheServerRestartsWhileTheSdkLogs()
    {
        var server = await TestServer.StartAsync();
        try
        {
            using var client = server.NewClient(server.AdminToken);
            var session = await client.StartRunAsync("sdk", "restart", options: new RunSessionOptions
            {
                FlushPoints = 1000,
                BatchPoints = 1000,
                RetryDelay = TimeSpan.FromMilliseconds(50),
                MaxRetryDelay = TimeSpan.FromSeconds(1),
            }, cancellationToken: Ct);
            var logging = Task.Run(async () =>
            {
                for (var i = 0; i < 100_000; i++)
                {
                    session.Log("loss", 1.0 / (i + 1), i);
                    if (i % 2000 == 1999)
                    {
                        await Task.Delay(5, Ct);
                    }
                }
            }, Ct);

            await Eventually.WaitForAsync(() => Task.FromResult(session.SentPoints), sent => sent >= 10_000, "The SDK");
            server = await server.RestartAsync(null, "--urls", server.Address.ToString());
            await logging;
            await session.DisposeAsync();

            Assert.Equal(0, session.DroppedPoints);
            Assert.Equal(100_000, session.SentPoints);
            var run = await client.GetRunAsync("sdk", "restart", session.Id, Ct);
            Assert.Equal(RunStatuses.Finished, run.Status);
            Assert.Equal(100_000, run.Metrics["loss"].Count);
            var steps = await client.ReadMetricPointsAsync("sdk", "restart", session.Id, "loss", Ct).Select(p => p.Step).ToListAsync(Ct);
            Assert.Equal(Enumerable.Range(0, 100_000).Select(i => (long)i), steps);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task ARunWhoseTrainingThrowsEndsFailed()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.NewClient(server.AdminToken);
        string? id = null;
        await Assert.ThrowsAsync<InvalidOperationException>(() => client.RunAsync("sdk", "fails", async run =>
        {
            id = run.Id;
            run.Log("loss", 0.5, 0);
            await Task.Yield();
            throw new InvalidOperationException("diverged");
        }, cancellationToken: Ct));
        var ended = await client.GetRunAsync("sdk", "fails", id!, Ct);
        Assert.Equal(RunStatuses.Failed, ended.Status);
        Assert.Equal(1, ended.Metrics["loss"].Count);
    }

    [Fact]
    public async Task AQuietSessionHeartbeatsSoItsRunOutlivesTheTimeoutWhileAnAbandonedRunCrashes()
    {
        // Runs crash after 4 silent seconds here, watched every second; the session beats every half second.
        await using var server = await TestServer.StartAsync("--Runs:HeartbeatTimeout", "00:00:04", "--Runs:WatchInterval", "00:00:01");
        using var client = server.NewClient(server.AdminToken);
        var passes = 0;
        server.Services.GetRequiredService<RunWatch>().Completed += _ => Interlocked.Increment(ref passes);
        await using var session = await client.StartRunAsync("sdk", "quiet", options: new RunSessionOptions { HeartbeatInterval = TimeSpan.FromMilliseconds(500) }, cancellationToken: Ct);
        var abandoned = await client.CreateRunAsync("sdk", "quiet", cancellationToken: Ct);

        // The abandoned run crashing shows the watch ran past the timeout; the session logged nothing meanwhile.
        await Eventually.WaitForAsync(() => client.GetRunAsync("sdk", "quiet", abandoned.Id, Ct), r => r.Status == RunStatuses.Crashed, "The run watch");
        var start = Volatile.Read(ref passes);
        await Eventually.WaitForAsync(() => Task.FromResult(Volatile.Read(ref passes)), p => p >= start + 3, "Three more passes of the watch");

        Assert.Equal(RunStatuses.Running, (await client.GetRunAsync("sdk", "quiet", session.Id, Ct)).Status);
        Assert.Equal(0, session.SentPoints);
        Assert.Null(session.LastError);
    }

    [Fact]
    public async Task ASessionWhoseRunTheServerCrashedEndsWithoutThrowingAndReportsTheCrash()
    {
        await using var server = await TestServer.StartAsync("--Runs:HeartbeatTimeout", "00:00:02", "--Runs:WatchInterval", "00:00:01");
        using var client = server.NewClient(server.AdminToken);
        var session = await client.StartRunAsync("sdk", "silent", options: new RunSessionOptions { HeartbeatInterval = TimeSpan.FromHours(1) }, cancellationToken: Ct);
        await Eventually.WaitForAsync(() => client.GetRunAsync("sdk", "silent", session.Id, Ct), r => r.Status == RunStatuses.Crashed, "The run watch");

        await session.DisposeAsync();

        Assert.Equal(RunStatuses.Crashed, session.Final!.Status);
        Assert.Equal("run_ended", Assert.IsType<BerthProblemException>(session.LastError).Code);
    }
}
