using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Api.Tests;

/// <summary>Aliases, stages, tags, deletion and the history that records them.</summary>
public sealed class LifecycleTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private BerthClient Client => Server.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AliasesMoveAndTheirHistoryIsKept()
    {
        await PushVersionsAsync("aliases", 3);
        await Client.SetAliasAsync("life", "aliases", "champion", "1", cancellationToken: Ct);
        await Client.SetAliasAsync("life", "aliases", "champion", "3", cancellationToken: Ct);
        Assert.Equal(3, (await Client.GetVersionAsync(ModelReference.Parse("life/aliases:champion"), cancellationToken: Ct)).Number);

        var model = await Client.GetModelAsync("life", "aliases", Ct);
        Assert.Equal(3, model.Aliases["champion"]);
        var alias = await Client.GetAliasAsync("life", "aliases", "champion", Ct);
        Assert.Equal((3, "admin"), (alias.Version, alias.UpdatedBy));
        Assert.Equal([alias], await Client.ListAliasesAsync("life", "aliases", Ct).ToListAsync(Ct));

        await Client.RemoveAliasAsync("life", "aliases", "champion", cancellationToken: Ct);
        var gone = await Assert.ThrowsAsync<BerthProblemException>(() => Client.GetVersionAsync(ModelReference.Parse("life/aliases:champion"), cancellationToken: Ct));
        Assert.Equal("alias_not_found", gone.Code);

        var history = await Client.GetHistoryAsync("life", "aliases", "alias", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(
            [(null, 1), (1, 3), (3, null)],
            history.Select(h => (h.PreviousVersion, h.Version)).ToList());
        Assert.All(history, h => Assert.Equal("admin", h.Actor));
    }

    [Fact]
    public async Task StageChangesAreRecordedWithWhoWhenAndWhy()
    {
        await PushVersionsAsync("stages", 2);
        var staged = await Client.ChangeStageAsync(ModelReference.Parse("life/stages:1"), "staging", "smoke tests pass", cancellationToken: Ct);
        Assert.Equal("staging", staged.Version.Stage);
        Assert.Equal(TransitionOutcomes.Applied, staged.Outcome);
        await Client.ChangeStageAsync(ModelReference.Parse("life/stages:1"), "production", "beats baseline", cancellationToken: Ct);
        await Client.ChangeStageAsync(ModelReference.Parse("life/stages:2"), "production", "beats 1", cancellationToken: Ct);

        // The stage selector resolves to the version most recently moved into it.
        Assert.Equal(2, (await Client.GetVersionAsync(ModelReference.Parse("life/stages:production"), cancellationToken: Ct)).Number);
        Assert.Equal(2, (await Client.GetModelAsync("life", "stages", Ct)).Stages["production"]);

        var history = await Client.GetHistoryAsync("life", "stages", "stage", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(
            [(1, null, "staging", "smoke tests pass"), (1, "staging", "production", "beats baseline"), (2, null, "production", "beats 1")],
            history.Select(h => (h.Version, h.FromStage, h.ToStage, h.Comment)).ToList());

        var unknown = await Assert.ThrowsAsync<BerthProblemException>(() => Client.ChangeStageAsync(ModelReference.Parse("life/stages:1"), "shadow", cancellationToken: Ct));
        Assert.Equal("invalid_stage", unknown.Code);
        Assert.Contains("development, staging, production, archived", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TagsAndDescriptionsOfVersionsAndModelsCanBeEdited()
    {
        await PushVersionsAsync("tags", 1);
        var reference = ModelReference.Parse("life/tags:1");
        var tagged = await Client.UpdateVersionAsync(reference, new UpdateVersionRequest(SetTags: new Dictionary<string, string> { ["validated"] = "true", ["owner"] = "ana" }), cancellationToken: Ct);
        Assert.Equal("true", tagged.Tags["validated"]);
        var untagged = await Client.UpdateVersionAsync(reference, new UpdateVersionRequest(Description: "now with notes", RemoveTags: ["owner"]), cancellationToken: Ct);
        Assert.False(untagged.Tags.ContainsKey("owner"));
        Assert.Equal("now with notes", untagged.Description);
        Assert.True(untagged.Revision > tagged.Revision);

        var model = await Client.UpdateModelAsync("life", "tags", new UpdateModelRequest("# Fraud model card", new Dictionary<string, string> { ["domain"] = "payments" }), cancellationToken: Ct);
        Assert.Equal("# Fraud model card", model.Description);
        Assert.Equal("payments", model.Tags["domain"]);
    }

    [Fact]
    public async Task DeletedVersionsLeavePullsListingsAndSelectorsButStayInHistory()
    {
        await PushVersionsAsync("deleted", 3);
        await Client.SetAliasAsync("life", "deleted", "champion", "3", cancellationToken: Ct);
        var deleted = await Client.DeleteVersionAsync(ModelReference.Parse("life/deleted:3"), cancellationToken: Ct);
        Assert.Equal(VersionStates.Deleted, deleted.State);

        var byNumber = await Assert.ThrowsAsync<BerthProblemException>(() => Client.GetVersionAsync(ModelReference.Parse("life/deleted:3"), cancellationToken: Ct));
        Assert.Equal(HttpStatusCode.Gone, byNumber.Status);
        Assert.Equal("version_deleted", byNumber.Code);
        Assert.Equal(2, (await Client.GetVersionAsync(ModelReference.Parse("life/deleted"), cancellationToken: Ct)).Number);
        Assert.Equal([2, 1], await Client.ListVersionsAsync("life", "deleted", cancellationToken: Ct).Select(v => v.Number).ToListAsync(Ct));
        Assert.Equal([3, 2, 1], await Client.ListVersionsAsync("life", "deleted", allStates: true, Ct).Select(v => v.Number).ToListAsync(Ct));
        Assert.Empty((await Client.GetModelAsync("life", "deleted", Ct)).Aliases);
        await (await Server.Http.GetAsync("/api/v1/models/life/deleted/versions/3/files/f.bin", Ct)).AssertProblemAsync(HttpStatusCode.Gone, "version_deleted");

        var history = await Client.GetHistoryAsync("life", "deleted", cancellationToken: Ct).ToListAsync(Ct);
        Assert.Contains(history, h => h.Kind == "deleted" && h.Version == 3);
        Assert.Contains(history, h => h.Kind == "alias" && h.Alias == "champion" && h.PreviousVersion == 3 && h.Version is null);

        // Numbers are never reused.
        var next = await PushVersionsAsync("deleted", 1);
        Assert.Equal(4, next);
    }

    [Fact]
    public async Task LatestNamesTheNewestReadyVersionNeverAPendingOne()
    {
        await PushVersionsAsync("newest", 2);

        // A third version is declared but its bytes never arrive: it stays pending.
        var json = $$"""{"files":[{"path":"f.bin","size":5,"digest":"sha256:{{new string('b', 64)}}"}]}""";
        using (var declared = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/life/newest/versions", json, Ct))
        {
            Assert.Equal(HttpStatusCode.Created, declared.StatusCode);
        }

        Assert.Equal(VersionStates.Pending, (await Client.GetVersionAsync(ModelReference.Parse("life/newest:3"), cancellationToken: Ct)).State);
        Assert.Equal(2, (await Client.GetVersionAsync(ModelReference.Parse("life/newest:latest"), cancellationToken: Ct)).Number);
        Assert.Equal(2, (await Client.GetVersionAsync(ModelReference.Parse("life/newest"), cancellationToken: Ct)).Number);
        Assert.Equal(2, (await Client.GetModelAsync("life", "newest", Ct)).LatestVersion);

        // Lifecycle actions given 'latest' act on the ready version too.
        await Client.SetAliasAsync("life", "newest", "champion", "latest", cancellationToken: Ct);
        Assert.Equal(2, (await Client.GetVersionAsync(ModelReference.Parse("life/newest:champion"), cancellationToken: Ct)).Number);
        await Client.ChangeStageAsync(ModelReference.Parse("life/newest:latest"), "staging", cancellationToken: Ct);
        Assert.Equal(2, (await Client.GetVersionAsync(ModelReference.Parse("life/newest:staging"), cancellationToken: Ct)).Number);
    }

    [Fact]
    public async Task AStaleIfMatchIsRefusedWith412()
    {
        await PushVersionsAsync("etag", 1);
        using var first = await Server.Http.GetAsync("/api/v1/models/life/etag/versions/1", Ct);
        var etag = first.Headers.ETag!.ToString();
        await Client.UpdateVersionAsync(ModelReference.Parse("life/etag:1"), new UpdateVersionRequest(Description: "changed"), etag, Ct);
        var stale = await Assert.ThrowsAsync<BerthProblemException>(() =>
            Client.UpdateVersionAsync(ModelReference.Parse("life/etag:1"), new UpdateVersionRequest(Description: "again"), etag, Ct));
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.Status);
        Assert.Equal("precondition_failed", stale.Code);
        Assert.Equal("changed", (await Client.GetVersionAsync(ModelReference.Parse("life/etag:1"), cancellationToken: Ct)).Description);

        using var model = await Server.Http.GetAsync("/api/v1/models/life/etag", Ct);
        var modelTag = model.Headers.ETag!.ToString();
        await Client.UpdateModelAsync("life", "etag", new UpdateModelRequest("one"), modelTag, Ct);
        var staleModel = await Assert.ThrowsAsync<BerthProblemException>(() => Client.UpdateModelAsync("life", "etag", new UpdateModelRequest("two"), modelTag, Ct));
        Assert.Equal("precondition_failed", staleModel.Code);

        // An ETag of another version never matches, even through an alias that moved.
        await PushVersionsAsync("etag", 1);
        await Client.SetAliasAsync("life", "etag", "current", "1", cancellationToken: Ct);
        using var viaAlias = await Server.Http.GetAsync("/api/v1/models/life/etag/versions/current", Ct);
        var aliasTag = viaAlias.Headers.ETag!.ToString();
        await Client.SetAliasAsync("life", "etag", "current", "2", cancellationToken: Ct);
        var moved = await Assert.ThrowsAsync<BerthProblemException>(() =>
            Client.UpdateVersionAsync(ModelReference.Parse("life/etag:current"), new UpdateVersionRequest(Description: "x"), aliasTag, Ct));
        Assert.Equal("precondition_failed", moved.Code);
    }

    [Fact]
    public async Task ParentsAreResolvedToVersionsAndShownAsReferences()
    {
        await PushVersionsAsync("base", 2);
        using var model = new ModelFolder(("ft.bin", 10));
        var child = await Client.PushAsync(model.Root, "life", "finetuned", new PushOptions { Lineage = new Lineage(Parents: ["life/base:latest", "base:1"]) }, cancellationToken: Ct);
        Assert.Equal(["life/base:2", "life/base:1"], child.Version.Lineage.Parents);
    }

    private async Task<int> PushVersionsAsync(string model, int count)
    {
        var number = 0;
        for (var i = 0; i < count; i++)
        {
            using var folder = new ModelFolder();
            // New content every time: a push of content the model already has creates no version.
            folder.Write("f.bin", 64, seed: Random.Shared.Next());
            number = (await Client.PushAsync(folder.Root, "life", model, new PushOptions(), cancellationToken: Ct)).Version.Number;
        }

        return number;
    }
}
