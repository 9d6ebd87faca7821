using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>berth eval, the evaluated metrics and children in berth show, and lineage search, as a user types them.</summary>
public sealed class EvalTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task AnEvaluationIsRecordedShownBesideThePushedValueAndListed()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var model = "evals/m" + Guid.NewGuid().ToString("N")[..10];
        using var folder = new ModelFolder(("w.bin", 300));
        (await user.RunAsync("push", folder.Root, model, "--metric", "auc=0.91", "--metric", "f1=0.8")).Succeeded();
        var run = (await user.RunAsync("run", "start", model, "--name", "eval-job")).Succeeded().Stdout.Trim();
        var id = run[(run.LastIndexOf('/') + 1)..];

        var evaluated = (await user.RunAsync("eval", model + ":1", "auc=0.95", "recall=0.7", "--dataset", "holdout-2026-11", "--run", run, "--note", "nightly")).Succeeded().Stdout;
        Assert.Matches($"^Evaluated {model}:1 on holdout-2026-11 \\(evaluation [0-9]+\\)", evaluated);
        Assert.Contains("auc:     0.95  (was 0.91, pushed; kept as the pushed value)", evaluated, StringComparison.Ordinal);
        Assert.Contains("recall:  0.7  (new)", evaluated, StringComparison.Ordinal);

        var json = (await user.RunAsync("eval", model + ":1", "auc=0.96", "--dataset", "holdout-2026-12", "--run", id, "--json")).Succeeded().Json;
        Assert.Equal(0.96, json.GetProperty("metrics").GetProperty("auc").GetDouble());
        Assert.Equal(id, json.GetProperty("run").GetString());
        var second = json.GetProperty("id").GetInt64();

        // berth show: the effective value, where it comes from and what the push said; metrics nobody evaluated as they are.
        var shown = (await user.RunAsync("show", model + ":1")).Succeeded().Stdout;
        Assert.Matches($"auc:\\s+0\\.96  \\(evaluation {second} on holdout-2026-12 by admin [^;]+, run {id}; pushed 0\\.91\\)", shown);
        Assert.Matches("f1:\\s+0\\.8\n", shown);
        Assert.Matches("recall:\\s+0\\.7  \\(evaluation [0-9]+ on holdout-2026-11 by admin [^;]+; not pushed\\)", shown);
        var shownJson = (await user.RunAsync("show", model + ":1", "--json")).Succeeded().Json;
        Assert.Equal(0.91, shownJson.GetProperty("evaluatedMetrics").GetProperty("auc").GetProperty("pushed").GetDouble());

        // Without metrics it lists them, newest first; search sees the effective value.
        var list = (await user.RunAsync("eval", model + ":1")).Succeeded().Stdout.Split('\n');
        Assert.StartsWith("ID", list[0], StringComparison.Ordinal);
        Assert.Contains("holdout-2026-12", list[1], StringComparison.Ordinal);
        Assert.Contains("holdout-2026-11", list[2], StringComparison.Ordinal);
        var found = (await user.RunAsync("search", $"name = '{model[(model.IndexOf('/') + 1)..]}' and metrics.auc > 0.95", "--json")).Succeeded().Json;
        Assert.Equal(1, found.GetArrayLength());

        // Bad input: usage errors (2) before anything is sent, the server's refusals (1) with their codes.
        (await user.RunAsync("eval", model + ":1", "auc=high")).Failed(2, "auc=high");
        (await user.RunAsync("eval", model + ":1", "--dataset", "holdout")).Failed(2, "Give the metrics measured");
        (await user.RunAsync("eval", model + ":1", "auc=0.9", "--run", "other/model/aaaaaaaaaaaa")).Failed(2, "a run of the version's own model");
        (await user.RunAsync("eval", model + ":1", "auc=0.9", "--run", "aaaaaaaaaaaa")).Failed(1, "(run_not_found)");
        (await user.RunAsync("eval", model + ":7", "auc=0.9")).Failed(1, "(version_not_found)");
        (await user.RunAsync("eval", model + ":1", "bad key=0.9")).Failed(2, "metric");
        Assert.Equal(2, (await user.RunAsync("eval", model + ":1", "--json")).Succeeded().Json.GetArrayLength());
    }

    [Fact]
    public async Task ShowListsAVersionsChildrenAndSearchFindsVersionsByLineage()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var ns = "lin" + Guid.NewGuid().ToString("N")[..8];
        using var a = new ModelFolder(("a.bin", 100));
        using var b = new ModelFolder(("b.bin", 100));
        (await user.RunAsync("push", a.Root, ns + "/base")).Succeeded();
        (await user.RunAsync("push", b.Root, ns + "/tuned", "--parent", ns + "/base:1", "--git-commit", "ABC1234", "--dataset", "s3://data/train.parquet")).Succeeded();

        var shown = (await user.RunAsync("show", ns + "/base:1")).Succeeded().Stdout;
        Assert.Matches($"children:\\s+{ns}/tuned:1", shown);
        Assert.Equal([$"{ns}/tuned:1"], (await user.RunAsync("show", ns + "/base:1", "--json")).Succeeded().Json.GetProperty("children").EnumerateArray().Select(c => c.GetString()!));

        foreach (var filter in new[] { $"lineage.parent = '{ns}/base'", "lineage.gitCommit = 'abc1234'", "lineage.dataset like 's3://data/%'" })
        {
            var found = (await user.RunAsync("search", $"namespace = '{ns}' and {filter}", "--json")).Succeeded().Json;
            Assert.Equal(["tuned"], found.EnumerateArray().Select(v => v.GetProperty("model").GetString()!));
        }

        (await user.RunAsync("search", "lineage.parent = 'base:1'")).Failed(1, "(invalid_filter)");
    }
}
