using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// Pushing content that a ready version of the model already has creates no version (unless --version or
/// --allow-unchanged): the CLI says which version has it, moves the requested aliases onto it and names the
/// options it did not use. An empty folder is refused before the server is asked anything.
/// </summary>
public sealed class PushUnchangedTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task RepushingUnchangedContentCreatesNoVersionAndSaysWhichOneHasIt()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 3000), ("config.json", 40));
        (await user.RunAsync("push", model.Root, "unchanged/text")).Succeeded();

        var again = (await user.RunAsync("push", model.Root, "unchanged/text")).Succeeded().Stdout;

        Assert.StartsWith("unchanged: same content as unchanged/text:1 — no new version created\n", again, StringComparison.Ordinal);
        Assert.DoesNotContain("ignored", again, StringComparison.Ordinal);
        var versions = (await user.RunAsync("ls", "unchanged/text", "--json")).Succeeded().Json;
        Assert.Equal([1], versions.EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
    }

    [Fact]
    public async Task AnUnchangedPushMovesItsAliasesOntoTheExistingVersionAndIgnoresTheRest()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 3000));
        (await user.RunAsync("push", model.Root, "unchanged/aliases", "--alias", "candidate")).Succeeded();
        model.Write("weights.bin", 3000, seed: 1);
        (await user.RunAsync("push", model.Root, "unchanged/aliases", "--alias", "candidate")).Succeeded();
        model.Write("weights.bin", 3000, seed: 0);

        var text = (await user.RunAsync("push", model.Root, "unchanged/aliases", "--alias", "candidate", "--alias", "champion", "--metric", "auc=0.9")).Succeeded().Stdout;
        Assert.StartsWith("unchanged: same content as unchanged/aliases:1 — no new version created\n", text, StringComparison.Ordinal);
        Assert.Matches(@"aliases:\s+candidate → 1 \(moved\), champion → 1 \(moved\)", text);
        Assert.Matches(@"ignored:\s+--metric: they describe a new version \(--allow-unchanged creates one\)", text);

        var json = (await user.RunAsync("push", model.Root, "unchanged/aliases", "--alias", "champion", "--param", "lr=0.1", "--json")).Succeeded().Json;
        Assert.True(json.GetProperty("unchanged").GetBoolean());
        Assert.Equal(1, json.GetProperty("version").GetProperty("number").GetInt32());
        Assert.Equal(["candidate", "champion"], json.GetProperty("version").GetProperty("aliases").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("unchanged/aliases:1", json.GetProperty("sameContentAs").GetString());
        var move = Assert.Single(json.GetProperty("aliases").EnumerateArray());
        Assert.Equal("champion", move.GetProperty("alias").GetString());
        Assert.Equal("unchanged", move.GetProperty("outcome").GetString());
        Assert.Equal(["--param"], json.GetProperty("ignored").EnumerateArray().Select(i => i.GetString()));
        Assert.Equal(0, json.GetProperty("filesUploaded").GetInt32());

        var shown = (await user.RunAsync("show", "unchanged/aliases:1", "--json")).Succeeded().Json;
        Assert.Empty(shown.GetProperty("metrics").EnumerateObject());
        Assert.Equal([2, 1], (await user.RunAsync("ls", "unchanged/aliases", "--json")).Succeeded().Json.EnumerateArray().Select(v => v.GetProperty("number").GetInt32()));
    }

    [Fact]
    public async Task ASemanticVersionOrAllowUnchangedMakesANewVersionOfTheSameContent()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 2000));
        (await user.RunAsync("push", model.Root, "unchanged/explicit")).Succeeded();

        var versioned = (await user.RunAsync("push", model.Root, "unchanged/explicit", "--version", "2.0.0")).Succeeded().Stdout;
        Assert.StartsWith("Pushed unchanged/explicit:2 (2.0.0)\n", versioned, StringComparison.Ordinal);
        Assert.Matches(@"same content as:\s+unchanged/explicit:1", versioned);

        var allowed = (await user.RunAsync("push", model.Root, "unchanged/explicit", "--allow-unchanged", "--json")).Succeeded().Json;
        Assert.False(allowed.GetProperty("unchanged").GetBoolean());
        Assert.Equal(3, allowed.GetProperty("version").GetProperty("number").GetInt32());
        Assert.Equal("unchanged/explicit:1", allowed.GetProperty("sameContentAs").GetString());
    }

    [Fact]
    public async Task ShowByDigestNamesTheOtherVersionsWithTheSameContent()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 2500));
        var digest = (await user.RunAsync("push", model.Root, "unchanged/digest", "--json")).Succeeded().Json.GetProperty("version").GetProperty("manifestDigest").GetString();
        model.Write("weights.bin", 2500, seed: 9);
        (await user.RunAsync("push", model.Root, "unchanged/digest")).Succeeded();
        model.Write("weights.bin", 2500, seed: 0);
        (await user.RunAsync("push", model.Root, "unchanged/digest", "--version", "3.0.0")).Succeeded();
        (await user.RunAsync("push", model.Root, "unchanged/digest", "--allow-unchanged")).Succeeded();

        var text = (await user.RunAsync("show", $"unchanged/digest@{digest}")).Succeeded().Stdout;
        Assert.StartsWith("unchanged/digest:1\n", text, StringComparison.Ordinal);
        Assert.Matches(@"same content:\s+also in unchanged/digest:3, unchanged/digest:4 \(unchanged/digest:1 is the oldest: @sha256 picks it\)", text);

        var json = (await user.RunAsync("show", $"unchanged/digest@{digest}", "--json")).Succeeded().Json;
        Assert.Equal(1, json.GetProperty("number").GetInt32());
        Assert.Equal([3, 4], json.GetProperty("sameContent").EnumerateArray().Select(n => n.GetInt32()));

        // Asked for by number, a version does not look for others.
        var byNumber = (await user.RunAsync("show", "unchanged/digest:3")).Succeeded().Stdout;
        Assert.DoesNotContain("same content", byNumber, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEmptyFolderIsRefusedBeforeTheServerIsContacted()
    {
        using var user = CliUser.WithDeadServer(Server.AdminToken);
        var empty = Directory.CreateDirectory(Path.Combine(user.Root, "empty")).FullName;
        Directory.CreateDirectory(Path.Combine(empty, ".git"));
        await File.WriteAllTextAsync(Path.Combine(empty, ".git", "HEAD"), "ref: refs/heads/main", TestContext.Current.CancellationToken);

        (await user.RunAsync("push", empty, "unchanged/empty")).Failed(2, "holds no files");
    }

    private CliUser User()
    {
        var user = new CliUser();
        user.Environment["BERTH_URL"] = Server.Url;
        user.Environment["BERTH_TOKEN"] = Server.AdminToken;
        return user;
    }
}
