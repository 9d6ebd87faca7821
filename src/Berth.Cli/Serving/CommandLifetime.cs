using Microsoft.Extensions.Hosting;

namespace Berth.Cli.Serving;

/// <summary>
/// A host lifetime that leaves Ctrl+C and SIGTERM to the command: serve-model's cancellation token stops it, in order
/// (stop listening, finish the requests in flight, record the deployment retired), instead of the host's console
/// lifetime ending the process on its own.
/// </summary>
internal sealed class CommandLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
