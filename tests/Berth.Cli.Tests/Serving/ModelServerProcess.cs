using System.Text;
using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests.Serving;

/// <summary>A running <c>berth serve-model</c>, started by a <see cref="CliUser"/> on a free port, and an HTTP client for it.</summary>
public sealed class ModelServerProcess : IAsyncDisposable
{
    private ModelServerProcess(RunningCli process, string url)
    {
        Process = process;
        Url = url;
        Http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(60) };
    }

    public RunningCli Process { get; }

    public string Url { get; }

    public HttpClient Http { get; }

    /// <summary>Starts serve-model and waits for its "Serving …" line (the model answers from then on).</summary>
    public static async Task<ModelServerProcess> StartAsync(CliUser user, string reference, params string[] options)
    {
        var port = ServerProcess.FreePort();
        var process = user.Start(["serve-model", reference, "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. options]);
        var server = new ModelServerProcess(process, $"http://127.0.0.1:{port}");
        try
        {
            Assert.StartsWith($"Listening on http://127.0.0.1:{port}", await process.ReadLineAsync(), StringComparison.Ordinal);
            Assert.StartsWith("Serving ", await process.ReadLineAsync(), StringComparison.Ordinal);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    public async Task<(int Status, JsonElement Body)> InferAsync(string json, string path = "/v2/models/{0}/infer", string model = "")
    {
        using var content = new StringContent(json, Encoding.UTF8, "application/json");
        using var response = await Http.PostAsync(string.Format(System.Globalization.CultureInfo.InvariantCulture, path, model), content, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await ReadAsync(response));
    }

    public async Task<(int Status, JsonElement Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(path, TestContext.Current.CancellationToken);
        return ((int)response.StatusCode, await ReadAsync(response));
    }

    public static async Task<JsonElement> ReadAsync(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync(TestContext.Current.CancellationToken);
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    /// <summary>Stops it as Ctrl+C does and returns its exit code and remaining output.</summary>
    public async Task<(int ExitCode, IReadOnlyList<string> Stdout, IReadOnlyList<string> Stderr)> StopAsync()
    {
        await Process.InterruptAsync();
        return await Process.WaitForExitAsync();
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Process.DisposeAsync();
    }
}
