using System.Net;
using System.Threading.Channels;
using Berth.Cli.Infrastructure;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.ML.OnnxRuntime;

namespace Berth.Cli.Serving;

/// <summary>
/// <c>berth serve-model</c> from start to stop: resolve the version (refusing one without a single ONNX file before
/// anything is downloaded), listen (live, not ready), pull and load it (ready), then with <c>--watch</c> follow the alias
/// or stage through the registry's event stream, loading each version it moves to beside the one being served and
/// swapping once it is ready; on stop, finish the requests in flight and record the deployment retired.
/// </summary>
internal sealed class ModelServer(BerthClient client, ModelReference reference, ServeModelOptions options, Output output)
{
    private static readonly string[] WatchedEvents = [EventTypes.StageChanged, EventTypes.AliasMoved, EventTypes.AliasRemoved, EventTypes.VersionDeleted, EventTypes.VersionReady];

    private readonly ModelHost _host = new();
    private readonly ServingMetrics _metrics = new();
    private readonly ModelLoader _loader = new(client, options);
    private readonly DeploymentReporter _reporter = new(client, options.Environment, options.Endpoint);
    private int? _failedNumber;

    public async Task<int> RunAsync(CancellationToken cancellationToken)
    {
        var ns = CliContext.NamespaceOf(reference);
        // The event cursor is taken before the version is resolved, so a promotion in between is not missed.
        var since = options.Watch ? (await client.ListEventsAsync(0, ns, $"{ns}/{reference.Model}", WatchedEvents, 1, cancellationToken)).Head : 0;
        var version = await _loader.ResolveAsync(reference, cancellationToken);
        ModelLoader.OnnxFile(version, options.File);

        using var endpoints = new InferenceEndpoints(version.Model, _host, _metrics, options);
        await using var app = Build(endpoints);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e)
        {
            throw new CliException($"Cannot listen on {options.Host}:{options.Port}: {e.Message}", hint: "choose another --port, or stop what uses it.");
        }

        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault() ?? $"http://{options.Host}:{options.Port}";
        output.Line($"Listening on {address}: model '{version.Model}' (Open Inference Protocol v2; ready once {version.Namespace}/{version.Model}:{version.Number} has loaded).");
        try
        {
            await _reporter.RecordAsync(version.Namespace, version.Model, version.Number, DeploymentStatuses.Deploying, null, cancellationToken);
            ServedModel first;
            try
            {
                first = await _loader.LoadAsync(version, cancellationToken);
            }
            catch (Exception e) when (e is CliException or InvalidDataException or IOException or BerthProblemException or HttpRequestException)
            {
                await _reporter.TryRecordAsync(version.Namespace, version.Model, version.Number, DeploymentStatuses.Failed, e.Message, CancellationToken.None);
                throw;
            }

            _host.Swap(first);
            _metrics.Loaded(first.Version, swap: false);
            output.Line($"Serving {Describe(first)}.");
            await _reporter.RecordAsync(version.Namespace, version.Model, version.Number, DeploymentStatuses.Live, null, cancellationToken);
            if (options.Watch)
            {
                await WatchAsync(ns, since, cancellationToken);
            }
            else
            {
                await Task.Delay(Timeout.Infinite, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Ctrl+C or SIGTERM: stop below.
        }
        finally
        {
            // Stop listening and let the requests in flight finish before the sessions go.
            using var stopping = new CancellationTokenSource(TimeSpan.FromSeconds(20));
            await app.StopAsync(stopping.Token);
            if (_host.Current is { } served)
            {
                await _reporter.TryRecordAsync(served.Version.Namespace, served.Version.Model, served.Version.Number, DeploymentStatuses.Retired, "stopped", stopping.Token);
            }

            _host.Dispose();
        }

        output.Line("Stopped.");
        return ExitCodes.Success;
    }

    private WebApplication Build(InferenceEndpoints endpoints)
    {
        var builder = BerthServer.CreateHostBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = options.MaxRequestBytes;
            if (string.Equals(options.Host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                kestrel.ListenLocalhost(options.Port);
            }
            else
            {
                kestrel.Listen(IPAddress.Parse(options.Host), options.Port);
            }
        });
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(20));
        builder.Services.AddSingleton<IHostLifetime, CommandLifetime>();
        var app = builder.Build();
        endpoints.Map(app);
        return app;
    }

    private async Task WatchAsync(string ns, long since, CancellationToken cancellationToken)
    {
        var moved = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });
        var follower = FollowEventsAsync(ns, since, moved.Writer, cancellationToken);
        try
        {
            // Something moved while the first version loaded: look once.
            moved.Writer.TryWrite(true);
            await foreach (var _ in moved.Reader.ReadAllAsync(cancellationToken))
            {
                await FollowAsync(cancellationToken);
            }
        }
        finally
        {
            await follower;
        }
    }

    /// <summary>Signals <paramref name="moved"/> on every event that may move the selector; reconnects when the stream fails.</summary>
    private async Task FollowEventsAsync(string ns, long since, ChannelWriter<bool> moved, CancellationToken cancellationToken)
    {
        var cursor = since;
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await foreach (var e in client.StreamEventsAsync(cursor, ns, $"{ns}/{reference.Model}", WatchedEvents, cancellationToken))
                {
                    cursor = e.Id;
                    moved.TryWrite(true);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (e is BerthProblemException or HttpRequestException or IOException or System.Text.Json.JsonException or InvalidDataException)
            {
                Output.Warning($"the registry's event stream failed ({e.Message}); following {reference} again in 5 s.");
                try
                {
                    await Task.Delay(TimeSpan.FromSeconds(5), cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    break;
                }

                moved.TryWrite(true);
            }
        }

        moved.TryComplete();
    }

    /// <summary>Loads the version the selector names now, if it is not the one served, and swaps to it once it is ready.</summary>
    private async Task FollowAsync(CancellationToken cancellationToken)
    {
        var current = _host.Current!;
        VersionInfo version;
        try
        {
            version = await _loader.ResolveAsync(reference, cancellationToken);
        }
        catch (BerthProblemException e)
        {
            Output.Warning($"{reference} names no version now ({e.Message.TrimEnd()} ({e.Code})); still serving {current.Version.Reference}.");
            return;
        }
        catch (HttpRequestException e)
        {
            Output.Warning($"cannot resolve {reference} ({e.Message}); still serving {current.Version.Reference}.");
            return;
        }

        if (version.Number == current.Version.Number || version.Number == _failedNumber)
        {
            return;
        }

        output.Line($"{reference} moved to {version.Namespace}/{version.Model}:{version.Number}: loading it (still serving version {current.Version.Number}).");
        ServedModel loaded;
        try
        {
            loaded = await _loader.LoadAsync(version, cancellationToken);
        }
        catch (Exception e) when (e is CliException or InvalidDataException or IOException or BerthProblemException or HttpRequestException or OnnxRuntimeException)
        {
            _failedNumber = version.Number;
            _metrics.LoadFailed();
            Output.Warning($"cannot serve {version.Namespace}/{version.Model}:{version.Number}: {e.Message}; still serving version {current.Version.Number}.");
            await _reporter.TryRecordAsync(version.Namespace, version.Model, version.Number, DeploymentStatuses.Failed, e.Message, cancellationToken);
            return;
        }

        _failedNumber = null;
        _host.Swap(loaded);
        _metrics.Loaded(loaded.Version, swap: true);
        output.Line($"Serving {Describe(loaded)} (was version {current.Version.Number}).");
        await _reporter.TryRecordAsync(version.Namespace, version.Model, version.Number, DeploymentStatuses.Live, $"replaces version {current.Version.Number}", cancellationToken);
    }

    private static string Describe(ServedModel model) =>
        $"{model.Version.Reference} as model '{model.Version.Model}' version {model.VersionText} ({model.Version.File}, {model.Version.ManifestDigest})";
}
