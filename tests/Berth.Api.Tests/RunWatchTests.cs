using System.Net;
using System.Net.Http.Json;
using Berth.Api.Tests.Support;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

/// <summary>
/// The heartbeat watch, on a server whose clock the test moves: runs crash after ten silent minutes, checked every minute.
/// (On the real clock with a two-second timeout, a loaded machine let the beating run go silent too.)
/// </summary>
public sealed class RunWatchTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestServer? _server;

    private TestServer Server => _server!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync(
        services => services.AddSingleton<TimeProvider>(_clock), "--Runs:HeartbeatTimeout", "00:10:00", "--Runs:WatchInterval", "00:01:00");

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
        var quiet = await StartAsync("crash");
        var alive = await StartAsync("crash");

        // Six minutes on, one run beats; six more, the other has been silent twelve minutes and this one six.
        _clock.Advance(TimeSpan.FromMinutes(6));
        using (var beat = await Server.Http.PostAsync($"/api/v1/models/runs/crash/runs/{alive.Id}/heartbeat", null, Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, beat.StatusCode);
        }

        Assert.Equal(RunStatuses.Running, (await GetAsync("crash", quiet.Id)).Status);
        _clock.Advance(TimeSpan.FromMinutes(6));
        var crashed = await Eventually.WaitForAsync(() => GetAsync("crash", quiet.Id), r => r.Status == RunStatuses.Crashed, "The run watch");
        // Ended when the watch saw it, on the server's clock (stored to the microsecond).
        Assert.InRange(crashed.EndedAt!.Value, _clock.GetUtcNow().AddMilliseconds(-1), _clock.GetUtcNow());
        Assert.Equal(RunStatuses.Running, (await GetAsync("crash", alive.Id)).Status);
        var events = await Server.Http.GetStringAsync("/api/v1/events?type=run.finished&namespace=runs&limit=1000", Ct);
        Assert.Contains("crashed", events, StringComparison.Ordinal);
    }
}
