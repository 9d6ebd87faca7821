using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Web.Tests.Support;

/// <summary>
/// A server with a small registry, shared by the tests of a class: acme/fraud-detector (3 versions with auc, f1, lr and
/// epochs, files model.bin and config/params.json, v3 also tokenizer.json, a description, a tag and lineage; v2 in
/// production, alias champion, a markdown card, tag team=risk), acme/churn (tag team=growth), research/xss-card (a card
/// that tries script and javascript: links), and users: the admin (password <see cref="UiUsers.Password"/>), rita (reader
/// of acme) and walt (writer of acme).
/// </summary>
public sealed class CatalogFixture : IAsyncLifetime
{
    public const string FraudCard = """
        # Fraud detector

        Catches card fraud in real time, trained on **2025** transactions.

        | metric | value |
        | --- | --- |
        | auc | 0.95 |

        See [the runbook](https://example.com/runbook).
        """;

    public const string HostileCard = """
        Hostile card <script>window.__xss = 1; alert('xss')</script>

        [click me](javascript:window.__xss=2) and [also](JaVaScRiPt:alert(1)) and <a href="javascript:alert(3)">raw</a>

        ![pixel](https://tracker.example/pixel.png) <img src=x onerror="window.__xss=4">
        """;

    /// <summary>The git commit of acme/fraud-detector:3's lineage.</summary>
    public const string FraudCommit = "0123456789abcdef0123456789abcdef01234567";

    /// <summary>The training run that produced acme/fraud-detector 1.2.0 (its lineage names it).</summary>
    public const string TrainingRunName = "gbm-2025-11-03";

    private TestServer? _server;

    public string TrainingRunId { get; private set; } = "";

    public TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        _server = await TestServer.StartAsync();
        await _server.SetAdminPasswordAsync();
        await _server.CreateNamespaceAsync("acme");
        await _server.CreateNamespaceAsync("research");
        // The newest version comes from a training run of the model (lineage.runId must name one).
        var run = await _server.Client.CreateRunAsync("acme", "fraud-detector", new CreateRunRequest(Name: TrainingRunName), ct);
        TrainingRunId = run.Id;
        foreach (var (auc, version, lr) in new[] { (0.91, "1.0.0", "0.01"), (0.93, "1.1.0", "0.01"), (0.95, "1.2.0", "0.005") })
        {
            var latest = version == "1.2.0";
            await PushAsync("acme", "fraud-detector", new PushOptions
            {
                Version = version,
                Metrics = new Dictionary<string, double> { ["auc"] = auc, ["f1"] = auc - 0.1 },
                Params = new Dictionary<string, string> { ["lr"] = lr, ["epochs"] = "10" },
                Description = latest ? "Retrained on **October** data." : null,
                Tags = latest ? new Dictionary<string, string> { ["validated"] = "true" } : null,
                Lineage = latest
                    ? new Lineage(run.Id, "https://git.example.com/acme/fraud", FraudCommit, [new DatasetRef("s3://data/fraud/2025-10")], ["acme/fraud-detector:2"])
                    : null,
            }, latest ? [("tokenizer.json", 16)] : []);
        }

        await _server.Client.UpdateModelAsync("acme", "fraud-detector", new UpdateModelRequest(FraudCard, new Dictionary<string, string> { ["team"] = "risk" }), cancellationToken: ct);
        await _server.Client.ChangeStageAsync(ModelReference.Parse("acme/fraud-detector:2"), "production", "best so far", cancellationToken: ct);
        await _server.Client.SetAliasAsync("acme", "fraud-detector", "champion", "3", cancellationToken: ct);
        await PushAsync("acme", "churn", new PushOptions { Metrics = new Dictionary<string, double> { ["auc"] = 0.8 } });
        await _server.Client.UpdateModelAsync("acme", "churn", new UpdateModelRequest("Predicts which customers leave.", new Dictionary<string, string> { ["team"] = "growth" }), cancellationToken: ct);
        await PushAsync("research", "xss-card", new PushOptions());
        await _server.Client.UpdateModelAsync("research", "xss-card", new UpdateModelRequest(HostileCard), cancellationToken: ct);
        await _server.CreateWithPasswordAsync("rita", "acme", "reader");
        await _server.CreateWithPasswordAsync("walt", "acme", "writer");
    }

    /// <summary>Pushes model.bin (new bytes every time), config/params.json (the same bytes every time) and <paramref name="more"/>.</summary>
    private async Task PushAsync(string ns, string model, PushOptions options, (string Path, int Size)[]? more = null)
    {
        using var folder = new ModelFolder();
        folder.Write("model.bin", 64, seed: Random.Shared.Next());
        folder.Write("config/params.json", 32, seed: 42);
        foreach (var (path, size) in more ?? [])
        {
            folder.Write(path, size, seed: 5);
        }

        await Server.Client.PushAsync(folder.Root, ns, model, options, cancellationToken: TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
