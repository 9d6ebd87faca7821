namespace Berth.Cli.Tests.Support;

/// <summary>One <c>berth serve</c> process for the whole test assembly; each test uses its own namespaces and CLI home.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private ServerProcess? _server;

    public ServerProcess Server => _server ?? throw new InvalidOperationException("The server has not started.");

    /// <summary>Webhook tests call receivers on 127.0.0.1, which webhooks may call only when the operator permits it.</summary>
    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync(fsync: false, TestContext.Current.CancellationToken,
        new Dictionary<string, string> { ["BERTH_Webhooks__AllowedNetworks__0"] = "127.0.0.1/32" });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
