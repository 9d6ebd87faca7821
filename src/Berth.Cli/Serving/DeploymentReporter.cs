using Berth.Cli.Infrastructure;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Serving;

/// <summary>
/// With <c>--environment</c>, tells the registry's deployments API what this process serves: deploying while the first
/// version loads, live once it answers (a newer version recorded live retires the one it replaced), failed when a
/// version cannot be loaded, retired when the process stops. Without it, does nothing.
/// </summary>
internal sealed class DeploymentReporter(BerthClient client, string? environment, string? endpoint)
{
    private readonly string _comment = $"berth serve-model on {System.Environment.MachineName} (pid {System.Environment.ProcessId})";

    public bool Enabled => environment is not null;

    /// <summary>Records <paramref name="status"/>; a failure is thrown (at start-up the caller stops on it).</summary>
    public async Task RecordAsync(string ns, string model, int number, string status, string? reason, CancellationToken cancellationToken)
    {
        if (environment is null)
        {
            return;
        }

        var reference = new ModelReference(ns, model, VersionSelector.ForNumber(number), HasSelector: true);
        var comment = reason is null ? _comment : $"{_comment}: {reason}";
        await client.RecordDeploymentAsync(reference, new RecordDeploymentRequest(environment, status, endpoint, comment.Length > 4096 ? comment[..4096] : comment), cancellationToken);
    }

    /// <summary>Records <paramref name="status"/>, and only warns when the registry cannot be told (serving goes on).</summary>
    public async Task TryRecordAsync(string ns, string model, int number, string status, string? reason, CancellationToken cancellationToken)
    {
        try
        {
            await RecordAsync(ns, model, number, status, reason, cancellationToken);
        }
        catch (Exception e) when (e is BerthProblemException or HttpRequestException or TaskCanceledException or IOException)
        {
            Output.Warning($"could not record {ns}/{model}:{number} as {status} in {environment}: {e.Message}");
        }
    }
}
