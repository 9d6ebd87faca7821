using Berth.Core.Diagnostics;
using Prometheus;

namespace Berth.Server.Hosting;

/// <summary>
/// The server's own Prometheus registry: HTTP request metrics, .NET process statistics, and the
/// instruments of this server's <see cref="BerthMeter"/> (plus the runtime's). Per server rather than
/// prometheus-net's process-wide default, so that servers hosted side by side (tests, tools) never mix.
/// </summary>
internal sealed class PrometheusMetrics : IDisposable
{
    private readonly IDisposable _adapter;

    public PrometheusMetrics(BerthMeter meter)
    {
        Registry = Metrics.NewCustomRegistry();
        Factory = Metrics.WithCustomRegistry(Registry);
        DotNetStats.Register(Registry);
        _adapter = MeterAdapter.StartListening(new MeterAdapterOptions
        {
            Registry = Registry,
            MetricFactory = Factory,
            InstrumentFilterPredicate = instrument => ReferenceEquals(instrument.Meter, meter.Meter) || instrument.Meter.Name == "System.Runtime",
        });
    }

    public CollectorRegistry Registry { get; }

    public IMetricFactory Factory { get; }

    public void Dispose() => _adapter.Dispose();
}
