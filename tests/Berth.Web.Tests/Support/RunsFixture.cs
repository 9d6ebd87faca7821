using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;

namespace Berth.Web.Tests.Support;

/// <summary>
/// A server with training runs, shared by the tests of a class. acme/fraud has: <c>baseline</c> (finished; params lr 0.01,
/// batch_size 64, optimizer adam, epochs 10; tags; a markdown note; lineage with git and a dataset; an environment;
/// train/loss and lr over 3,000 steps, val/loss and val/auc every 100 steps, times 200 ms a step), <c>lr-0.03</c> (walt's,
/// finished, a child of baseline), <c>lr-0.1</c> (failed, its loss ends in NaN), <c>wide-batch</c> (killed),
/// <c>long</c> (train/loss over 100,000 steps), <c>live</c> (running, 500 steps so far) and an unnamed run (lr "auto");
/// version 1 names baseline in its lineage. acme/sweep has 60 runs for paging and sorting: sweep-00 … sweep-49 with lr
/// 0.001 × (50 − i), then 5 with lr "auto" and 5 without lr, unnamed. acme/vision has <c>resnet-50</c> (finished) with 68
/// files (<see cref="VisionFiles"/>: two PNG plots, a ".png" that is HTML, JSON, a long log, a binary, 60 checkpoints) and
/// <c>no-files</c> (finished, none). Users: admin, rita (reader of acme), walt (writer of
/// acme, with a token), otto (no role), wendy (writer of acme, signs in to the UI). Commands records the database's commands (subscribed before the server starts).
/// </summary>
public sealed class RunsFixture : IAsyncLifetime
{
    public const string Commit = "89abcdef0123456789abcdef0123456789abcdef";

    public const string Note = """
        ## Baseline

        AdamW with a **cosine** schedule; see [the sweep notes](https://example.com/sweep).
        """;

    private TestServer? _server;

    public TestServer Server => _server ?? throw new InvalidOperationException("Not started.");

    public CommandRecorder Commands { get; } = new();

    public RunInfo Baseline { get; private set; } = null!;
    public RunInfo Child { get; private set; } = null!;
    public RunInfo Diverged { get; private set; } = null!;
    public RunInfo WideBatch { get; private set; } = null!;
    public RunInfo Long { get; private set; } = null!;
    public RunInfo Live { get; private set; } = null!;
    public RunInfo Unnamed { get; private set; } = null!;
    public RunInfo Vision { get; private set; } = null!;
    public RunInfo NoFiles { get; private set; } = null!;

    /// <summary>The files of <see cref="Vision"/> other than its 60 checkpoints (weights/epoch-00.pt … epoch-59.pt, 16 bytes each).</summary>
    public static IReadOnlyDictionary<string, byte[]> VisionFiles { get; } = new Dictionary<string, byte[]>(StringComparer.Ordinal)
    {
        ["README.md"] = System.Text.Encoding.UTF8.GetBytes("# ResNet-50\n\nFine-tuned on the 2025-10 images ✓ 🚀\n"),
        ["logs/train.log"] = System.Text.Encoding.UTF8.GetBytes("<script>alert('log')</script> starting\n" + string.Concat(Enumerable.Range(0, 3000).Select(i => $"epoch {i / 100} step {i} loss={2.0 / (i + 1):0.0000} <b>ok</b>\n"))),
        ["metrics.json"] = System.Text.Encoding.UTF8.GetBytes("{\"accuracy\":0.91,\"classes\":[\"cat\",\"dog\"],\"note\":\"<script>alert('json')</script>\",\"per_class\":{\"cat\":{\"f1\":0.9},\"dog\":{\"f1\":0.88}}}"),
        ["model/config.json"] = System.Text.Encoding.UTF8.GetBytes("{\"arch\": \"resnet50\", \"layers\": 50}"),
        ["model/weights.bin"] = ModelFolder.Bytes(4096, 50),
        ["plots/confusion.png"] = TinyPng.Confusion(),
        ["plots/loss.png"] = TinyPng.LossCurve(),
        ["plots/not-an-image.png"] = System.Text.Encoding.UTF8.GetBytes("<html><body><script>alert('png')</script></body></html>"),
    };

    /// <summary>The live run's next step (tests that log into it continue from here).</summary>
    public long LiveSteps { get; set; } = 500;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // The heartbeat watch must not end the live run while the tests look at it.
        _server = await TestServer.StartAsync("--Runs:HeartbeatTimeout=01:00:00");
        await _server.SetAdminPasswordAsync();
        await _server.CreateNamespaceAsync("acme");
        await _server.CreateWithPasswordAsync("rita", "acme", "reader");
        await _server.CreateWithPasswordAsync("otto");
        await _server.CreateWithPasswordAsync("wendy", "acme", "writer");
        using var walt = await _server.AddUserAsync("walt", "acme", "writer");
        var admin = _server.Client;

        Baseline = await StartAsync(admin, "fraud", new CreateRunRequest(
            "baseline",
            new Dictionary<string, string> { ["lr"] = "0.01", ["batch_size"] = "64", ["optimizer"] = "adam", ["epochs"] = "10" },
            new Dictionary<string, string> { ["dataset"] = "v2", ["team"] = "risk" },
            Note,
            new RunLineage("https://git.example.com/acme/fraud", Commit, false, [new DatasetRef("s3://data/fraud/2025-10", "sha256:" + new string('a', 64))]),
            new Dictionary<string, string> { ["python"] = "3.12.7", ["torch"] = "2.5.1", ["host"] = "gpu-01" }));
        await LogCurvesAsync(admin, "fraud", Baseline, 3000, 0.01);
        Baseline = await admin.FinishRunAsync("acme", "fraud", Baseline.Id, cancellationToken: Ct);

        Child = await StartAsync(walt.Client, "fraud", new CreateRunRequest(
            "lr-0.03",
            new Dictionary<string, string> { ["lr"] = "0.03", ["batch_size"] = "64", ["optimizer"] = "adam", ["epochs"] = "10" },
            new Dictionary<string, string> { ["dataset"] = "v2" },
            Lineage: new RunLineage(ParentRun: Baseline.Id)));
        await LogCurvesAsync(walt.Client, "fraud", Child, 3000, 0.03);
        Child = await walt.Client.FinishRunAsync("acme", "fraud", Child.Id, cancellationToken: Ct);

        Diverged = await StartAsync(admin, "fraud", new CreateRunRequest("lr-0.1", new Dictionary<string, string> { ["lr"] = "0.1", ["batch_size"] = "64", ["optimizer"] = "adam" }));
        await LogCurvesAsync(admin, "fraud", Diverged, 1200, 0.1, diverge: true);
        Diverged = await admin.FinishRunAsync("acme", "fraud", Diverged.Id, "failed", Ct);

        WideBatch = await StartAsync(admin, "fraud", new CreateRunRequest("wide-batch", new Dictionary<string, string> { ["lr"] = "0.01", ["batch_size"] = "256", ["optimizer"] = "adam" }));
        await LogCurvesAsync(admin, "fraud", WideBatch, 800, 0.01);
        WideBatch = await admin.FinishRunAsync("acme", "fraud", WideBatch.Id, "killed", Ct);

        Long = await StartAsync(admin, "fraud", new CreateRunRequest("long", new Dictionary<string, string> { ["lr"] = "0.005", ["batch_size"] = "128", ["optimizer"] = "sgd" }));
        await LogCurvesAsync(admin, "fraud", Long, 100_000, 0.005, withValidation: false);
        Long = await admin.FinishRunAsync("acme", "fraud", Long.Id, cancellationToken: Ct);

        Unnamed = await StartAsync(admin, "fraud", new CreateRunRequest(Params: new Dictionary<string, string> { ["lr"] = "auto" }));
        await LogCurvesAsync(admin, "fraud", Unnamed, 300, 0.02);
        Unnamed = await admin.FinishRunAsync("acme", "fraud", Unnamed.Id, cancellationToken: Ct);

        Live = await StartAsync(admin, "fraud", new CreateRunRequest("live", new Dictionary<string, string> { ["lr"] = "0.02", ["batch_size"] = "64", ["optimizer"] = "adam" }));
        await LogCurvesAsync(admin, "fraud", Live, (int)LiveSteps, 0.02, withValidation: false);
        Live = await admin.GetRunAsync("acme", "fraud", Live.Id, Ct);

        using (var folder = new ModelFolder())
        {
            folder.Write("model.bin", 64, seed: 3);
            await admin.PushAsync(folder.Root, "acme", "fraud", new PushOptions
            {
                Metrics = new Dictionary<string, double> { ["auc"] = 0.93 },
                Lineage = new Lineage(Baseline.Id, "https://git.example.com/acme/fraud", Commit),
            }, cancellationToken: Ct);
        }

        Vision = await StartAsync(admin, "vision", new CreateRunRequest("resnet-50", new Dictionary<string, string> { ["lr"] = "0.001", ["epochs"] = "30" }));
        await LogCurvesAsync(admin, "vision", Vision, 300, 0.02);
        using (var outputs = new ModelFolder())
        {
            foreach (var (path, bytes) in VisionFiles)
            {
                Directory.CreateDirectory(Path.GetDirectoryName(Path.Combine(outputs.Root, path))!);
                await File.WriteAllBytesAsync(Path.Combine(outputs.Root, path), bytes, Ct);
            }

            for (var i = 0; i < 60; i++)
            {
                outputs.Write($"weights/epoch-{i:00}.pt", 16, seed: i);
            }

            await admin.UploadRunFilesAsync("acme", "vision", Vision.Id, outputs.Root, cancellationToken: Ct);
        }

        Vision = await admin.FinishRunAsync("acme", "vision", Vision.Id, cancellationToken: Ct);
        NoFiles = await StartAsync(admin, "vision", new CreateRunRequest("no-files"));
        NoFiles = await admin.FinishRunAsync("acme", "vision", NoFiles.Id, cancellationToken: Ct);

        for (var i = 0; i < 60; i++)
        {
            var parameters = new Dictionary<string, string> { ["seed"] = (i % 3).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            if (i < 50)
            {
                parameters["lr"] = (0.001 * (50 - i)).ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
            }
            else if (i < 55)
            {
                parameters["lr"] = "auto";
            }

            var run = await admin.CreateRunAsync("acme", "sweep", new CreateRunRequest(i < 50 ? $"sweep-{i:00}" : null, parameters), Ct);
            await admin.LogMetricsAsync("acme", "sweep", run.Id, new MetricBatch([new MetricPointInput("score", 1, i / 100.0)]), Ct);
            await admin.FinishRunAsync("acme", "sweep", run.Id, cancellationToken: Ct);
        }
    }

    private static Task<RunInfo> StartAsync(Berth.Client.BerthClient client, string model, CreateRunRequest request) =>
        client.CreateRunAsync("acme", model, request, Ct);

    /// <summary>
    /// train/loss (noisy, falling with the learning rate's speed) and lr (a cosine schedule) every step, val/loss and
    /// val/auc every 100 steps; each step 200 ms after the run's start. A diverging run's loss climbs and ends in NaN.
    /// </summary>
    public static async Task LogCurvesAsync(Berth.Client.BerthClient client, string model, RunInfo run, int steps, double lr, bool withValidation = true, bool diverge = false, long first = 0)
    {
        var start = run.StartedAt.ToUnixTimeMilliseconds();
        var random = new Random((int)(lr * 1000) + steps);
        var batch = new List<MetricPointInput>();
        for (long step = first; step < first + steps; step++)
        {
            var time = start + (step * 200);
            var progress = step / (double)Math.Max(1, first + steps);
            var loss = diverge
                ? 0.7 + (progress * progress * 4) + (random.NextDouble() * 0.3)
                : (2.0 * Math.Exp(-step * lr * 0.01)) + 0.1 + (random.NextDouble() * 0.15);
            if (diverge && step == first + steps - 1)
            {
                loss = double.NaN;
            }

            batch.Add(new MetricPointInput("train/loss", step, loss, time));
            batch.Add(new MetricPointInput("lr", step, lr * 0.5 * (1 + Math.Cos(Math.PI * progress)), time));
            if (withValidation && step % 100 == 0)
            {
                batch.Add(new MetricPointInput("val/loss", step, loss * 1.1, time));
                batch.Add(new MetricPointInput("val/auc", step, Math.Min(0.99, 0.6 + (0.35 * (1 - Math.Exp(-step * lr * 0.01))) - (diverge ? progress * 0.3 : 0)), time));
            }

            if (batch.Count >= 9_000)
            {
                await client.LogMetricsAsync("acme", model, run.Id, new MetricBatch(batch), Ct);
                batch = [];
            }
        }

        if (batch.Count > 0)
        {
            await client.LogMetricsAsync("acme", model, run.Id, new MetricBatch(batch), Ct);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Commands.Dispose();
    }
}
