using Berth.Api.Tests.Support;
using Berth.Client.Transfers;

namespace Berth.Web.Tests.Support;

/// <summary>
/// A server for the settings pages, shared by the tests of a class: webhooks may call 127.0.0.1 (the operator's
/// allow-list, as in the API's webhook tests) and retry quickly; the admin's password is <see cref="UiUsers.Password"/>.
/// Each test makes its own namespaces and users.
/// </summary>
public sealed class SettingsFixture : IAsyncLifetime
{
    private TestServer? _server;

    public TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        _server = await TestServer.StartAsync(
            "--Webhooks:AllowedNetworks:0=127.0.0.1/32",
            "--Webhooks:RetryDelay=00:00:00.300",
            "--Webhooks:PollInterval=00:00:00.050");
        await _server.SetAdminPasswordAsync();
    }

    /// <summary>A namespace with one model (<c>scorer</c>, one version) as the server admin.</summary>
    public async Task NamespaceWithModelAsync(string ns)
    {
        await Server.CreateNamespaceAsync(ns);
        await PushAsync(ns, "scorer");
    }

    public async Task PushAsync(string ns, string model)
    {
        using var folder = new ModelFolder();
        folder.Write("scorer.onnx", 64, seed: Random.Shared.Next());
        await Server.Client.PushAsync(folder.Root, ns, model, new PushOptions(), cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
