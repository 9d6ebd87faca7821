using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests;

/// <summary>
/// Lineage in the filter language (lineage.run, lineage.gitCommit, lineage.dataset, lineage.parent) for search and stage
/// gates, and a version's children, through a real server.
/// </summary>
public sealed class LineageSearchTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<int> PushAsync(string ns, string model, Lineage? lineage = null, string? semver = null)
    {
        using var folder = new ModelFolder();
        folder.Write("w.bin", 48, seed: Random.Shared.Next());
        var result = await Server.Client.PushAsync(folder.Root, ns, model, new PushOptions { Lineage = lineage, Version = semver }, cancellationToken: Ct);
        return result.Version.Number;
    }

    private async Task<List<string>> SearchAsync(string ns, string filter) =>
        (await Server.Client.SearchAsync($"namespace in ('{ns}', '{ns}-x') and ({filter})", "created").ToListAsync(Ct)).Select(v => $"{v.Model}:{v.Number}").ToList();

    [Fact]
    public async Task VersionsAreFoundByTheirRunCommitDatasetAndParents()
    {
        var ns = "lin" + Guid.NewGuid().ToString("N")[..8];
        await PushAsync(ns, "base", semver: "1.0.0");
        await PushAsync(ns, "base");
        var run = await Server.Client.CreateRunAsync(ns, "child", new CreateRunRequest("train"), Ct);
        await PushAsync(ns, "child", new Lineage(run.Id, "https://git.example.com/x", "ABCDEF1234", [new DatasetRef("s3://data/train.parquet", "sha256:" + new string('d', 64))], [$"{ns}/base:1"]));
        await PushAsync(ns + "-x", "other");
        await PushAsync(ns, "child", new Lineage(Datasets: [new DatasetRef("s3://data/pii/users.parquet")], Parents: [$"{ns}/base:2", $"{ns}-x/other:1"]));
        await PushAsync(ns, "plain");

        Assert.Equal(["child:1"], await SearchAsync(ns, $"lineage.run = '{run.Id}'"));
        Assert.Equal(["base:1", "base:2", "other:1", "child:2", "plain:1"], await SearchAsync(ns, "lineage.run is null"));
        // Commits are stored and compared in lower case.
        Assert.Equal(["child:1"], await SearchAsync(ns, "lineage.gitCommit = 'ABCDEF1234'"));
        Assert.Equal(["child:1"], await SearchAsync(ns, "lineage.gitCommit like 'abcd%'"));
        Assert.Equal(["child:1"], await SearchAsync(ns, "lineage.dataset = 's3://data/train.parquet'"));
        Assert.Equal(["child:1"], await SearchAsync(ns, $"lineage.dataset = 'sha256:{new string('d', 64)}'"));
        Assert.Equal(["child:1", "child:2"], await SearchAsync(ns, "lineage.dataset like 's3://data/%'"));
        Assert.Equal(["child:1"], await SearchAsync(ns, "lineage.dataset is not null and not lineage.dataset like 's3://data/pii/%'"));
        Assert.Equal(["child:1", "child:2"], await SearchAsync(ns, "lineage.dataset ilike 'S3://DATA/%'"));

        // Parents by number, semantic version, digest or model; sets: != and not in mean "no parent is".
        Assert.Equal(["child:1"], await SearchAsync(ns, $"lineage.parent = '{ns}/base:1'"));
        Assert.Equal(["child:1"], await SearchAsync(ns, $"lineage.parent = '{ns}/base:v1.0.0'"));
        var digest = (await Server.Client.GetVersionAsync(Versions.Ref(ns, "base", 1), cancellationToken: Ct)).ManifestDigest;
        Assert.Equal(["child:1"], await SearchAsync(ns, $"lineage.parent = '{ns}/base@{digest}'"));
        Assert.Equal(["child:1", "child:2"], await SearchAsync(ns, $"lineage.parent = '{ns}/base'"));
        Assert.Equal(["child:2"], await SearchAsync(ns, $"lineage.parent in ('{ns}-x/other:1', '{ns}/nothing')"));
        Assert.Equal(["child:1"], await SearchAsync(ns, $"lineage.parent is not null and lineage.parent != '{ns}-x/other'"));
        Assert.Equal(["base:1", "base:2", "other:1", "plain:1"], await SearchAsync(ns, "lineage.parent is null"));
        Assert.Equal(["base:1", "base:2", "other:1", "plain:1"], await SearchAsync(ns, $"lineage.parent not in ('{ns}/base', '{ns}-x/other')"));
    }

    [Theory]
    [InlineData("lineage.parent = 'base:1'", "needs the namespace")]
    [InlineData("lineage.parent = 'acme/base:champion'", "alias, a stage or 'latest'")]
    [InlineData("lineage.parent = 'acme/base:latest'", "alias, a stage or 'latest'")]
    [InlineData("lineage.parent like 'acme/%'", "does not apply to lineage.parent")]
    [InlineData("lineage.parent = 'not a reference'", "version reference")]
    [InlineData("lineage.run > 'a'", "does not apply to lineage.run")]
    [InlineData("lineage.gitCommit = 42", "expected a quoted string")]
    [InlineData("lineage.nothing = 'x'", "Unknown field 'lineage.nothing'")]
    [InlineData("lineage = 'x'", "Unknown field 'lineage'")]
    public async Task ABadLineageConditionIsAnInvalidFilterWithItsPosition(string filter, string message)
    {
        using var response = await Server.Http.GetAsync("/api/v1/search?q=" + Uri.EscapeDataString(filter), Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_filter");
        Assert.Contains(message, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.True(problem.GetProperty("position").GetInt32() >= 0);
    }

    [Fact]
    public async Task RunsHaveNoLineageFields()
    {
        var ns = "linr" + Guid.NewGuid().ToString("N")[..8];
        await Server.Client.CreateRunAsync(ns, "m", new CreateRunRequest(), Ct);
        using var response = await Server.Http.GetAsync($"/api/v1/models/{ns}/m/runs?filter=" + Uri.EscapeDataString("lineage.run = 'x'"), Ct);
        var problem = await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_filter");
        Assert.Contains("Unknown field 'lineage.run'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AVersionListsTheChildrenTheCallerMayReadAndAGateCanAskForLineage()
    {
        var ns = "linc" + Guid.NewGuid().ToString("N")[..8];
        var hidden = ns + "-x";
        await PushAsync(ns, "base");
        await PushAsync(ns, "tuned", new Lineage(Parents: [$"{ns}/base:1"]));
        await PushAsync(ns, "distilled", new Lineage(Parents: [$"{ns}/base:1", $"{ns}/tuned:1"]));
        await PushAsync(hidden, "secret", new Lineage(Parents: [$"{ns}/base:1"]));
        // A child that is not ready (deleted) is not listed.
        await PushAsync(ns, "gone", new Lineage(Parents: [$"{ns}/base:1"]));
        await Server.Client.DeleteVersionAsync(Versions.Ref(ns, "gone", 1), cancellationToken: Ct);

        var base1 = await Server.Client.GetVersionAsync(Versions.Ref(ns, "base", 1), cancellationToken: Ct);
        Assert.Equal([$"{ns}/tuned:1", $"{ns}/distilled:1", $"{hidden}/secret:1"], base1.Children);
        Assert.Equal([$"{ns}/distilled:1"], (await Server.Client.GetVersionAsync(Versions.Ref(ns, "tuned", 1), cancellationToken: Ct)).Children);
        Assert.Empty((await Server.Client.GetVersionAsync(Versions.Ref(ns, "distilled", 1), cancellationToken: Ct)).Children!);

        // A reader of the namespace does not learn of versions in namespaces it may not read.
        using var reader = await Server.AddUserAsync("linreader" + Guid.NewGuid().ToString("N")[..6], ns, Roles.Reader);
        var seen = await reader.Client.GetVersionAsync(Versions.Ref(ns, "base", 1), cancellationToken: Ct);
        Assert.Equal([$"{ns}/tuned:1", $"{ns}/distilled:1"], seen.Children);
        // Lists of versions do not carry children (only a version read alone).
        Assert.All(await Server.Client.ListVersionsAsync(ns, "base", cancellationToken: Ct).ToListAsync(Ct), v => Assert.Null(v.Children));

        // A gate that admits only versions derived from the base model.
        await Server.Client.SetStageRuleAsync(ns, null, "production", new SetStageRuleRequest(Gate: $"lineage.parent = '{ns}/base'"), Ct);
        var refused = await Assert.ThrowsAsync<Berth.Client.BerthProblemException>(() => Server.Client.ChangeStageAsync(Versions.Ref(ns, "base", 1), "production", cancellationToken: Ct));
        Assert.Equal("gate_failed", refused.Code);
        Assert.Contains("no parent", refused.Message, StringComparison.Ordinal);
        await Server.Client.ChangeStageAsync(Versions.Ref(ns, "tuned", 1), "production", cancellationToken: Ct);
        Assert.Equal("production", (await Server.Client.GetVersionAsync(Versions.Ref(ns, "tuned", 1), cancellationToken: Ct)).Stage);
    }
}
