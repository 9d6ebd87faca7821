using System.Net;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;

namespace Berth.Api.Tests;

public sealed class OperationsTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task HealthAndReadinessAnswerWithoutAToken()
    {
        Assert.Equal("ok\n", await Server.Anonymous.GetStringAsync("/healthz", Ct));
        using var ready = await Server.Anonymous.GetAsync("/readyz", Ct);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        using var json = JsonDocument.Parse(await ready.Content.ReadAsStringAsync(Ct));
        Assert.Equal("ready", json.RootElement.GetProperty("status").GetString());
    }

    [Fact]
    public async Task MetricsCountRequestsAndTransferredBytes()
    {
        using var model = new ModelFolder(("metrics.bin", 12345));
        await Server.Client.PushAsync(model.Root, "ops", "metrics", new PushOptions(), cancellationToken: Ct);
        var output = TempFolder.Create("berth-metrics");
        try
        {
            await Server.Client.PullAsync(Berth.Contracts.Naming.ModelReference.Parse("ops/metrics"), output, new PullOptions(), cancellationToken: Ct);
        }
        finally
        {
            TempFolder.Delete(output);
        }

        var text = await Server.Anonymous.GetStringAsync("/metrics", Ct);
        Assert.Contains("http_requests_received_total", text, StringComparison.Ordinal);
        Assert.Contains("endpoint=\"/api/v1/models/{namespace}/{model}/versions/{selector}/files/{**path}\"", text, StringComparison.Ordinal);
        Assert.True(Metric(text, "berth_blob_received_bytes") >= 12345);
        Assert.True(Metric(text, "berth_blob_sent_bytes") >= 12345);
        Assert.Contains("berth_upload_sessions_open", text, StringComparison.Ordinal);
        Assert.Contains("berth_store_bytes", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheOpenApiDocumentDescribesTheApiAndTheReferencePageIsServed()
    {
        using var document = JsonDocument.Parse(await Server.Anonymous.GetStringAsync("/api/v1/openapi.json", Ct));
        var paths = document.RootElement.GetProperty("paths");
        Assert.True(paths.TryGetProperty("/api/v1/models/{namespace}/{model}/versions/{selector}", out _));
        Assert.True(paths.TryGetProperty("/api/v1/models/{namespace}/{model}/uploads/{id}", out _));
        Assert.True(paths.TryGetProperty("/api/v1/search", out _));
        Assert.Equal("bearer", document.RootElement.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("scheme").GetString());

        var page = await Server.Anonymous.GetStringAsync("/api/docs", Ct);
        Assert.Contains("openapi.json", page, StringComparison.Ordinal);
        using var script = await Server.Anonymous.GetAsync("/api/docs/scalar.js", Ct);
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
    }

    private static double Metric(string text, string prefix) => text.Split('\n')
        .Where(l => l.StartsWith(prefix, StringComparison.Ordinal))
        .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
        .Sum();
}
