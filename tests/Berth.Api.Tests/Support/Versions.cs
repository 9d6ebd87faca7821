using Berth.Client.Transfers;
using Berth.Contracts.Naming;

namespace Berth.Api.Tests.Support;

public static class Versions
{
    /// <summary>Pushes a version with one small file of random bytes (always a new version) as the server admin.</summary>
    public static async Task PushSmallAsync(this TestServer server, string ns, string model, IReadOnlyList<string>? aliases = null)
    {
        using var folder = new ModelFolder();
        folder.Write("w.bin", 32, seed: Random.Shared.Next());
        await server.Client.PushAsync(folder.Root, ns, model, new PushOptions { Aliases = aliases }, cancellationToken: TestContext.Current.CancellationToken);
    }

    public static ModelReference Ref(string ns, string model, int number) => ModelReference.Parse($"{ns}/{model}:{number}");
}
