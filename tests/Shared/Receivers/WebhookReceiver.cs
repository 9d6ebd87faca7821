using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Testing;

/// <summary>One call a receiver got, and what it answered.</summary>
public sealed record ReceivedCall(DateTimeOffset At, IReadOnlyDictionary<string, string> Headers, byte[] Body, int Status)
{
    public long EventId => JsonDocument.Parse(Body).RootElement.GetProperty("id").GetInt64();

    public string EventType => JsonDocument.Parse(Body).RootElement.GetProperty("type").GetString()!;

    public string Header(string name) => Headers.TryGetValue(name.ToLowerInvariant(), out var value) ? value : throw new KeyNotFoundException(name);
}

/// <summary>
/// A real HTTP receiver for webhook tests (Kestrel on 127.0.0.1, a free port). <see cref="Respond"/> decides each
/// answer (status code; it may also wait, to play a receiver that hangs); every call is kept in order.
/// </summary>
public sealed class WebhookReceiver : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ReceivedCall> _calls = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WebhookReceiver(WebApplication app, Uri address)
    {
        _app = app;
        Url = new Uri(address, "/hooks/berth").AbsoluteUri;
    }

    public string Url { get; }

    /// <summary>Answers 204 by default.</summary>
    public Func<HttpContext, Task<int>> Respond { get; set; } = _ => Task.FromResult(204);

    public IReadOnlyList<ReceivedCall> Calls => [.. _calls];

    public static async Task<WebhookReceiver> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        WebhookReceiver? receiver = null;
        app.MapPost("/hooks/berth", async context =>
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            var headers = context.Request.Headers.ToDictionary(h => h.Key.ToLowerInvariant(), h => h.Value.ToString());
            var at = DateTimeOffset.UtcNow;
            var status = await receiver!.Respond(context);
            context.Response.StatusCode = status;
            receiver.Record(new ReceivedCall(at, headers, buffer.ToArray(), status));
            if (status != 204)
            {
                await context.Response.WriteAsync($"received {buffer.Length} bytes", context.RequestAborted);
            }
        });
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        receiver = new WebhookReceiver(app, address);
        return receiver;
    }

    /// <summary>Waits until the calls so far satisfy <paramref name="condition"/>; fails after <paramref name="timeout"/>.</summary>
    public async Task<IReadOnlyList<ReceivedCall>> WaitForAsync(Func<IReadOnlyList<ReceivedCall>, bool> condition, TimeSpan? timeout = null)
    {
        using var limit = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var changed = Volatile.Read(ref _changed).Task;
            var calls = Calls;
            if (condition(calls))
            {
                return calls;
            }

            try
            {
                await changed.WaitAsync(limit.Token);
            }
            catch (OperationCanceledException)
            {
                throw new TimeoutException($"The receiver's {calls.Count} calls did not reach the expected state in time.");
            }
        }
    }

    private void Record(ReceivedCall call)
    {
        _calls.Enqueue(call);
        Interlocked.Exchange(ref _changed, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
