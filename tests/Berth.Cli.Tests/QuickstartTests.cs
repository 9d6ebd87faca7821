using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>The quickstart of the README, command by command, as a user types it.</summary>
[Trait("Database", "both")]
public sealed class QuickstartTests(ServerFixture fixture)
{
    private const string DatasetDigest = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task TheWholeLifecycleWorksFromLoginToHistory()
    {
        using var user = new CliUser();
        using var model = new ModelFolder(("model.bin", 3 * 1024 * 1024 + 17), ("config.json", 300), ("tokenizer/vocab.txt", 40_000), ("empty.txt", 0));
        using var baseModel = new ModelFolder(("base.bin", 1000));
        var output = Path.Combine(user.Root, "out");

        // Login stores server, token and default namespace, readable by the owner only.
        var login = (await user.RunAsync("login", Server.Url, "--token", Server.AdminToken, "--namespace", "acme")).Succeeded();
        Assert.Contains("admin", login.Stdout, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(user.ConfigPath));
        Assert.Equal("admin", (await user.RunAsync("whoami", "--json")).Succeeded().Json.GetProperty("user").GetProperty("name").GetString());

        // Push with every flag, linked to a training run of the model.
        (await user.RunAsync("push", baseModel.Root, "acme/base")).Succeeded();
        var runRef = (await user.RunAsync("run", "start", "acme/fraud", "--name", "gbm-2026-11")).Succeeded().Stdout.Trim();
        var runId = runRef[(runRef.LastIndexOf('/') + 1)..];
        var push = (await user.RunAsync(
            "push", model.Root, "acme/fraud",
            "--version", "1.2.0",
            "--description", "GBM, 2026-11 data",
            "--metric", "auc=0.931", "--metric", "f1=0.88",
            "--param", "lr=0.01",
            "--tag", "team=risk",
            "--alias", "candidate",
            "--git-commit", "3f2a9c1",
            "--git-repo", "https://git.example.com/risk/fraud",
            "--run", runId,
            "--dataset", $"s3://data/train.parquet@{DatasetDigest}",
            "--parent", "acme/base:1",
            "--parallel", "2",
            "--json")).Succeeded().Json;
        var version = push.GetProperty("version");
        Assert.Equal(1, version.GetProperty("number").GetInt32());
        Assert.Equal("ready", version.GetProperty("state").GetString());
        Assert.Equal("1.2.0", version.GetProperty("semVer").GetString());
        Assert.Equal("GBM, 2026-11 data", version.GetProperty("description").GetString());
        Assert.Equal(0.931, version.GetProperty("metrics").GetProperty("auc").GetDouble());
        Assert.Equal(0.88, version.GetProperty("metrics").GetProperty("f1").GetDouble());
        Assert.Equal("0.01", version.GetProperty("params").GetProperty("lr").GetString());
        Assert.Equal("risk", version.GetProperty("tags").GetProperty("team").GetString());
        Assert.Equal(["candidate"], Strings(version.GetProperty("aliases")));
        var lineage = version.GetProperty("lineage");
        Assert.Equal("3f2a9c1", lineage.GetProperty("gitCommit").GetString());
        Assert.Equal("https://git.example.com/risk/fraud", lineage.GetProperty("gitRepository").GetString());
        Assert.Equal(runId, lineage.GetProperty("runId").GetString());
        var dataset = Assert.Single(lineage.GetProperty("datasets").EnumerateArray());
        Assert.Equal("s3://data/train.parquet", dataset.GetProperty("uri").GetString());
        Assert.Equal(DatasetDigest, dataset.GetProperty("digest").GetString());
        Assert.Equal(["acme/base:1"], Strings(lineage.GetProperty("parents")));
        Assert.Equal(4, push.GetProperty("filesTotal").GetInt32());
        Assert.Equal(3 * 1024 * 1024 + 17 + 300 + 40_000, push.GetProperty("bytesTotal").GetInt64());
        Assert.Equal(push.GetProperty("bytesTotal").GetInt64(), push.GetProperty("bytesUploaded").GetInt64());
        var digest = version.GetProperty("manifestDigest").GetString()!;

        // ls: namespaces, models of a namespace, versions of a model.
        var namespaces = (await user.RunAsync("ls", "--json")).Succeeded().Json;
        Assert.Equal(2, namespaces.EnumerateArray().Single(n => n.GetProperty("name").GetString() == "acme").GetProperty("modelCount").GetInt32());
        Assert.Contains("acme", (await user.RunAsync("ls")).Succeeded().Stdout, StringComparison.Ordinal);
        var models = (await user.RunAsync("ls", "acme", "--json")).Succeeded().Json;
        Assert.Equal(["base", "fraud"], models.EnumerateArray().Select(m => m.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
        var modelTable = (await user.RunAsync("ls", "acme")).Succeeded().Stdout;
        Assert.Contains("acme/fraud", modelTable, StringComparison.Ordinal);
        Assert.Contains("candidate=1", modelTable, StringComparison.Ordinal);
        var versions = (await user.RunAsync("ls", "acme/fraud", "--json")).Succeeded().Json;
        Assert.Equal([1], versions.EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
        Assert.Contains("auc=0.931", (await user.RunAsync("ls", "acme/fraud")).Succeeded().Stdout, StringComparison.Ordinal);

        // show: every selector form resolves to the same version; no selector means latest.
        foreach (var reference in new[] { "acme/fraud:candidate", "acme/fraud:1", "acme/fraud:1.2.0", "acme/fraud:v1.2.0", "acme/fraud:latest", "acme/fraud", $"acme/fraud@{digest}", "fraud:1" })
        {
            var shown = (await user.RunAsync("show", reference, "--json")).Succeeded().Json;
            Assert.True(shown.GetProperty("number").GetInt32() == 1, $"show {reference}");
            Assert.Equal(digest, shown.GetProperty("manifestDigest").GetString());
        }

        var block = (await user.RunAsync("show", "acme/fraud:candidate", "--files")).Succeeded().Stdout;
        foreach (var expected in new[] { "acme/fraud:1", "ready", "1.2.0", "candidate", digest, "admin", "auc", "0.931", "lr", "team", "risk", "3f2a9c1", "s3://data/train.parquet", "acme/base:1", runId, "GBM, 2026-11 data", "tokenizer/vocab.txt", "empty.txt" })
        {
            Assert.Contains(expected, block, StringComparison.Ordinal);
        }

        Assert.DoesNotContain('\u001b', block);
        Assert.DoesNotContain("tokenizer/vocab.txt", (await user.RunAsync("show", "acme/fraud:candidate")).Succeeded().Stdout, StringComparison.Ordinal);
        var withFiles = (await user.RunAsync("show", "acme/fraud:1", "--files", "--json")).Succeeded().Json;
        Assert.Equal(4, withFiles.GetProperty("files").GetArrayLength());

        // pull: a byte-identical tree; a second pull keeps every file.
        var pulled = (await user.RunAsync("pull", "acme/fraud:1.2.0", "-o", output, "--json")).Succeeded().Json;
        Assert.Equal(4, pulled.GetProperty("filesWritten").GetInt32());
        Assert.Equal(1, pulled.GetProperty("version").GetProperty("number").GetInt32());
        ModelFolder.AssertSameTree(model.Root, output);
        var again = (await user.RunAsync("pull", "acme/fraud:candidate", "-o", output)).Succeeded().Stdout;
        Assert.Contains("kept:", again, StringComparison.Ordinal);
        Assert.Contains("4 files", again, StringComparison.Ordinal);
        ModelFolder.AssertSameTree(model.Root, output);

        // alias set / ls / rm.
        var alias = (await user.RunAsync("alias", "set", "acme/fraud:1", "champion", "--json")).Succeeded().Json;
        Assert.Equal("applied", alias.GetProperty("outcome").GetString());
        Assert.Equal("champion", alias.GetProperty("alias").GetProperty("name").GetString());
        Assert.Equal(1, alias.GetProperty("alias").GetProperty("version").GetInt32());
        Assert.Equal(1, (await user.RunAsync("show", "acme/fraud:champion", "--json")).Succeeded().Json.GetProperty("number").GetInt32());
        var aliases = (await user.RunAsync("alias", "ls", "acme/fraud", "--json")).Succeeded().Json;
        Assert.Equal(["candidate", "champion"], aliases.EnumerateArray().Select(a => a.GetProperty("name").GetString()!).Order(StringComparer.Ordinal));
        Assert.Contains("champion", (await user.RunAsync("alias", "ls", "acme/fraud")).Succeeded().Stdout, StringComparison.Ordinal);
        (await user.RunAsync("alias", "rm", "acme/fraud", "champion")).Succeeded();
        var afterRemoval = (await user.RunAsync("alias", "ls", "acme/fraud", "--json")).Succeeded().Json;
        Assert.Equal(["candidate"], afterRemoval.EnumerateArray().Select(a => a.GetProperty("name").GetString()!));
        Assert.Equal(1, (await user.RunAsync("show", "acme/fraud:champion")).ExitCode);

        // stage.
        var staged = (await user.RunAsync("stage", "acme/fraud:1", "production", "--comment", "beats 2", "--json")).Succeeded().Json;
        Assert.Equal("applied", staged.GetProperty("outcome").GetString());
        Assert.Equal("production", staged.GetProperty("version").GetProperty("stage").GetString());
        Assert.Equal(1, (await user.RunAsync("show", "acme/fraud:production", "--json")).Succeeded().Json.GetProperty("number").GetInt32());

        // tag: set several, remove one.
        var tagged = (await user.RunAsync("tag", "acme/fraud:1", "validated=true", "owner=ml-platform", "--rm", "team", "--json")).Succeeded().Json;
        var tags = tagged.GetProperty("tags");
        Assert.Equal("true", tags.GetProperty("validated").GetString());
        Assert.Equal("ml-platform", tags.GetProperty("owner").GetString());
        Assert.False(tags.TryGetProperty("team", out _));

        // A re-push of the unchanged folder creates no version; with --allow-unchanged it is version 2 and uploads nothing.
        var unchanged = (await user.RunAsync("push", model.Root, "acme/fraud")).Succeeded().Stdout;
        Assert.StartsWith("unchanged: same content as acme/fraud:1 (1.2.0) — no new version created", unchanged, StringComparison.Ordinal);
        var repush = (await user.RunAsync("push", model.Root, "acme/fraud", "--allow-unchanged", "--json")).Succeeded().Json;
        Assert.Equal(2, repush.GetProperty("version").GetProperty("number").GetInt32());
        Assert.Equal(0, repush.GetProperty("filesUploaded").GetInt32());
        Assert.Equal(0, repush.GetProperty("bytesUploaded").GetInt64());
        Assert.Equal(4, repush.GetProperty("filesPresent").GetInt32());

        // rm: soft delete; the version is gone from show and ls, and stays in ls --all.
        var deleted = (await user.RunAsync("rm", "acme/fraud:2", "--json")).Succeeded().Json;
        Assert.Equal("deleted", deleted.GetProperty("state").GetString());
        (await user.RunAsync("show", "acme/fraud:2")).Failed(1, "(version_deleted)");
        Assert.Equal([1], (await user.RunAsync("ls", "acme/fraud", "--json")).Succeeded().Json.EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
        var all = (await user.RunAsync("ls", "acme/fraud", "--all", "--json")).Succeeded().Json;
        Assert.Equal("deleted", all.EnumerateArray().Single(v => v.GetProperty("number").GetInt32() == 2).GetProperty("state").GetString());

        // history: alias moves, the stage change with its comment, the deletion, oldest first.
        var history = (await user.RunAsync("history", "acme/fraud", "--json")).Succeeded().Json.EnumerateArray().ToList();
        Assert.Equal(["alias", "alias", "alias", "stage", "deleted"], history.Select(h => h.GetProperty("kind").GetString()!));
        var stageEntry = history.Single(h => h.GetProperty("kind").GetString() == "stage");
        Assert.Equal("production", stageEntry.GetProperty("toStage").GetString());
        Assert.Equal("beats 2", stageEntry.GetProperty("comment").GetString());
        var stagesOnly = (await user.RunAsync("history", "acme/fraud", "--kind", "stage", "--json")).Succeeded().Json;
        Assert.Equal("stage", Assert.Single(stagesOnly.EnumerateArray()).GetProperty("kind").GetString());
        var table = (await user.RunAsync("history", "acme/fraud")).Succeeded().Stdout;
        Assert.Contains("-> production", table, StringComparison.Ordinal);
        Assert.Contains("beats 2", table, StringComparison.Ordinal);

        // logout: the token is gone, and the server says so.
        (await user.RunAsync("logout")).Succeeded();
        Assert.DoesNotContain(Server.AdminToken, await File.ReadAllTextAsync(user.ConfigPath, TestContext.Current.CancellationToken), StringComparison.Ordinal);
        (await user.RunAsync("whoami")).Failed(1, "(token_missing)");
    }

    private static List<string> Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToList();
}
