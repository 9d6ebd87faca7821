using Prometheus;

namespace Berth.Cli.Serving;

/// <summary>
/// serve-model's Prometheus metrics (on <c>/metrics</c>, in a registry of its own, with prometheus-net as the server uses it):
/// requests by endpoint and status, inference latency, refusals by error code, the version served, swaps and requests
/// in flight. Labels are bounded: endpoint kinds, status codes and error codes are fixed lists.
/// </summary>
internal sealed class ServingMetrics
{
    private readonly Counter _requests;
    private readonly Histogram _duration;
    private readonly Counter _errors;
    private readonly Gauge _version;
    private readonly Counter _swaps;
    private readonly Counter _loadFailures;
    private string[]? _versionLabels;

    public ServingMetrics()
    {
        Registry = Metrics.NewCustomRegistry();
        var factory = Metrics.WithCustomRegistry(Registry);
        DotNetStats.Register(Registry);
        _requests = factory.CreateCounter("berth_serve_requests_total", "Requests answered, by endpoint (infer, metadata, ready, live, server) and HTTP status.", "endpoint", "status");
        _duration = factory.CreateHistogram("berth_serve_request_duration_seconds", "Time to answer a request, by endpoint (reading the body, inference and writing the answer).",
            new HistogramConfiguration
            {
                LabelNames = ["endpoint"],
                Buckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
            });
        _errors = factory.CreateCounter("berth_serve_errors_total", "Refused or failed requests, by error code (docs/serving.md).", "code");
        _version = factory.CreateGauge("berth_serve_model_version", "The version being served (1 for its labels; the version number is also the gauge's 'number' label).", "namespace", "model", "number", "digest");
        _swaps = factory.CreateCounter("berth_serve_swaps_total", "Versions loaded after the first (--watch followed the alias or stage).");
        _loadFailures = factory.CreateCounter("berth_serve_load_failures_total", "Versions that could not be pulled or loaded.");
        InFlight = factory.CreateGauge("berth_serve_requests_in_flight", "Inference requests being answered.");
    }

    public CollectorRegistry Registry { get; }

    public Gauge InFlight { get; }

    public void Observe(string endpoint, int status, double seconds)
    {
        _requests.WithLabels(endpoint, status.ToString(System.Globalization.CultureInfo.InvariantCulture)).Inc();
        _duration.WithLabels(endpoint).Observe(seconds);
    }

    public void Error(string code) => _errors.WithLabels(code).Inc();

    public void Loaded(ServedVersion version, bool swap)
    {
        string[] labels = [version.Namespace, version.Model, version.Number.ToString(System.Globalization.CultureInfo.InvariantCulture), version.ManifestDigest];
        _version.WithLabels(labels).Set(1);
        if (_versionLabels is { } previous && !previous.SequenceEqual(labels))
        {
            _version.RemoveLabelled(previous);
        }

        _versionLabels = labels;
        if (swap)
        {
            _swaps.Inc();
        }
    }

    public void LoadFailed() => _loadFailures.Inc();
}
