using System.Net;
using System.Net.Http.Json;
using Berth.Api.Tests.Support;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Core.Runs;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>The heartbeat watch, on a server whose runs crash after two silent seconds (checked every second).</summary>
public sealed class RunWatchTests : IAsyncLifetime
{
    private TestServer? _server;

    private TestServer Server => _server!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync("--Runs:HeartbeatTimeout", "00:00:02", "--Runs:WatchInterval", "00:00:01");

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private async Task<RunInfo> StartAsync(string model)
    {
        using var response = await Server.Http.SendJsonAsync(HttpMethod.Post, $"/api/v1/models/runs/{model}/runs", "{}", Ct);
        return await response.ReadAsync(BerthJsonContext.Default.RunInfo);
    }

    private async Task<RunInfo> GetAsync(string model, string id) =>
        (await Server.Http.GetFromJsonAsync($"/api/v1/models/runs/{model}/runs/{id}", BerthJsonContext.Default.RunInfo, Ct))!;

    [Fact]
    public async Task ARunWithoutHeartbeatsBecomesCrashed()
    {
        var passes = 0;
        Server.Services.GetRequiredService<RunWatch>().Completed += _ => Interlocked.Increment(ref passes);
        var quiet = await StartAsync("crash");
        var alive = await StartAsync("crash");
        var crashed = await Eventually.WaitForAsync(async () =>
        {
            using var beat = await Server.Http.PostAsync($"/api/v1/models/runs/crash/runs/{alive.Id}/heartbeat", null, Ct);
            Assert.Equal(HttpStatusCode.NoContent, beat.StatusCode);
            return await GetAsync("crash", quiet.Id);
        }, r => r.Status == RunStatuses.Crashed || Volatile.Read(ref passes) > 20, "The run watch");
        Assert.True(crashed.Status == RunStatuses.Crashed, $"still {crashed.Status} after {passes} passes of the watch");
        Assert.NotNull(crashed.EndedAt);
        Assert.Equal(RunStatuses.Running, (await GetAsync("crash", alive.Id)).Status);
        var events = await Server.Http.GetStringAsync("/api/v1/events?type=run.finished&namespace=runs&limit=1000", Ct);
        Assert.Contains("crashed", events, StringComparison.Ordinal);
    }
}
