using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// What berth pull does to a folder that is not empty: identical files are kept, anything else in the way is
/// refused (nothing written) unless --force, --clean makes the folder exactly the version, and a symbolic link
/// inside the folder is never followed, neither while writing nor while removing. Paths that are dangerous to
/// materialise are written with a warning.
/// </summary>
public sealed class PullFolderTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PullRefusesToReplaceADifferingFileAndWritesNothingUnlessForced()
    {
        using var user = User();
        using var model = new ModelFolder(("a.bin", 4096), ("b.bin", 4096), ("c/d.bin", 100));
        var output = Path.Combine(user.Root, "out");
        (await user.RunAsync("push", model.Root, "folder/repair")).Succeeded();
        (await user.RunAsync("pull", "folder/repair", "-o", output)).Succeeded();

        await File.WriteAllBytesAsync(Path.Combine(output, "b.bin"), new byte[4096], Ct);
        File.Delete(Path.Combine(output, "c", "d.bin"));
        await File.WriteAllTextAsync(Path.Combine(output, "notes.txt"), "mine", Ct);

        var refused = (await user.RunAsync("pull", "folder/repair:latest", "-o", output)).Failed(1, "1 path in");
        Assert.Contains("nothing was written", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("  b.bin: differs: same size, other content (SHA-256)", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("hint: pull with --force", refused.Stderr, StringComparison.Ordinal);
        Assert.Equal(new byte[4096], await File.ReadAllBytesAsync(Path.Combine(output, "b.bin"), Ct));
        Assert.False(File.Exists(Path.Combine(output, "c", "d.bin")));

        var forced = (await user.RunAsync("pull", "folder/repair", "-o", output, "--force", "--json")).Succeeded().Json;
        Assert.Equal(2, forced.GetProperty("filesWritten").GetInt32());
        Assert.Equal(1, forced.GetProperty("filesKept").GetInt32());
        Assert.Equal("mine", await File.ReadAllTextAsync(Path.Combine(output, "notes.txt"), Ct));

        var cleaned = (await user.RunAsync("pull", "folder/repair", "-o", output, "--clean", "--json")).Succeeded().Json;
        Assert.Equal(["notes.txt"], cleaned.GetProperty("removed").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal(0, cleaned.GetProperty("filesWritten").GetInt32());
        ModelFolder.AssertSameTree(model.Root, output);
    }

    [Fact]
    public async Task AFileOfAnotherSizeIsRefusedLikeOneWithOtherContent()
    {
        using var user = User();
        using var model = new ModelFolder(("w.bin", 1000));
        var output = Path.Combine(user.Root, "out");
        (await user.RunAsync("push", model.Root, "folder/size")).Succeeded();
        Directory.CreateDirectory(output);
        await File.WriteAllTextAsync(Path.Combine(output, "w.bin"), "older", Ct);

        (await user.RunAsync("pull", "folder/size", "-o", output)).Failed(1, "w.bin: differs: 5 bytes, the version's file has 1000");
        Assert.Equal("older", await File.ReadAllTextAsync(Path.Combine(output, "w.bin"), Ct));
    }

    [Fact]
    public async Task PullNeverWritesThroughASymbolicLinkInTheFolder()
    {
        using var user = User();
        await PushRawAsync("folder/git", (".git/config", Encoding.UTF8.GetBytes("[core]\n\tfsmonitor = touch /tmp/pwned\n")), ("weights.bin", ModelFolder.Bytes(2000, 5)));
        var outside = Directory.CreateDirectory(Path.Combine(user.Root, "outside")).FullName;
        await File.WriteAllTextAsync(Path.Combine(outside, "precious.txt"), "keep me", Ct);
        var output = Directory.CreateDirectory(Path.Combine(user.Root, "out")).FullName;
        File.CreateSymbolicLink(Path.Combine(output, ".git"), outside);
        File.CreateSymbolicLink(Path.Combine(output, "weights.bin"), Path.Combine(outside, "precious.txt"));

        var refused = (await user.RunAsync("pull", "folder/git", "-o", output)).Failed(1, "2 paths in");
        Assert.Contains("  .git: a symbolic link where the version has a folder (of '.git/config')", refused.Stderr, StringComparison.Ordinal);
        Assert.Contains("  weights.bin: a symbolic link where the version has a file", refused.Stderr, StringComparison.Ordinal);

        var forced = await user.RunAsync("pull", "folder/git", "-o", output, "--force", "--json");

        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Equal(["precious.txt"], Directory.EnumerateFileSystemEntries(outside).Select(Path.GetFileName));
        Assert.Equal("keep me", await File.ReadAllTextAsync(Path.Combine(outside, "precious.txt"), Ct));
        Assert.Null(new DirectoryInfo(Path.Combine(output, ".git")).LinkTarget);
        Assert.Null(new FileInfo(Path.Combine(output, "weights.bin")).LinkTarget);
        Assert.Equal(ModelFolder.Bytes(2000, 5), await File.ReadAllBytesAsync(Path.Combine(output, "weights.bin"), Ct));
        Assert.StartsWith("[core]", await File.ReadAllTextAsync(Path.Combine(output, ".git", "config"), Ct), StringComparison.Ordinal);

        // The dangerous path is named on stderr and in the JSON.
        Assert.Equal("warning: '.git/config' is dangerous to materialise: version-control metadata ('.git'): Git and similar tools run its hooks and follow its settings in this folder.\n", forced.Stderr);
        var warning = Assert.Single(forced.Json.GetProperty("warnings").EnumerateArray());
        Assert.Equal("risky_path", warning.GetProperty("kind").GetString());
        Assert.Equal(".git/config", warning.GetProperty("path").GetString());
    }

    [Fact]
    public async Task CleanRemovesWhatTheVersionDoesNotHoldWithoutFollowingLinks()
    {
        using var user = User();
        using var model = new ModelFolder(("w.bin", 500), ("sub/x.bin", 50));
        (await user.RunAsync("push", model.Root, "folder/clean")).Succeeded();
        var outside = Directory.CreateDirectory(Path.Combine(user.Root, "outside")).FullName;
        await File.WriteAllTextAsync(Path.Combine(outside, "precious.txt"), "keep me", Ct);
        var output = Directory.CreateDirectory(Path.Combine(user.Root, "out")).FullName;
        Directory.CreateDirectory(Path.Combine(output, "sub", "old"));
        await File.WriteAllTextAsync(Path.Combine(output, "sub", "old", "stale.bin"), "stale", Ct);
        await File.WriteAllTextAsync(Path.Combine(output, "extra.txt"), "extra", Ct);
        File.CreateSymbolicLink(Path.Combine(output, "link-to-folder"), outside);
        File.CreateSymbolicLink(Path.Combine(output, "sub", "link-to-file"), Path.Combine(outside, "precious.txt"));

        var cleaned = (await user.RunAsync("pull", "folder/clean", "-o", output, "--clean", "--json")).Succeeded().Json;

        Assert.Equal(["extra.txt", "link-to-folder", "sub/link-to-file", "sub/old"], cleaned.GetProperty("removed").EnumerateArray().Select(p => p.GetString()));
        Assert.Equal("keep me", await File.ReadAllTextAsync(Path.Combine(outside, "precious.txt"), Ct));
        ModelFolder.AssertSameTree(model.Root, output);
        Assert.Equal(["sub"], Directory.EnumerateDirectories(output, "*", SearchOption.AllDirectories).Select(Path.GetFileName));
    }

    private CliUser User()
    {
        var user = new CliUser();
        user.Environment["BERTH_URL"] = Server.Url;
        user.Environment["BERTH_TOKEN"] = Server.AdminToken;
        return user;
    }

    /// <summary>Pushes files through the API, as any client may (berth push leaves .git folders out).</summary>
    private async Task PushRawAsync(string model, params (string Path, byte[] Bytes)[] files)
    {
        using var http = new HttpClient { BaseAddress = new Uri(Server.Url) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Server.AdminToken);
        foreach (var (_, bytes) in files)
        {
            using var content = new ByteArrayContent(bytes);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var upload = await http.PostAsync($"/api/v1/models/{model}/uploads?digest={ModelFolder.Sha256(bytes)}&size={bytes.Length}", content, Ct);
            Assert.Equal(HttpStatusCode.Created, upload.StatusCode);
        }

        var declared = JsonSerializer.Serialize(new { files = files.Select(f => new { path = f.Path, size = f.Bytes.Length, digest = ModelFolder.Sha256(f.Bytes) }) });
        using (var create = await http.PostAsync($"/api/v1/models/{model}/versions", new StringContent(declared, Encoding.UTF8, "application/json"), Ct))
        {
            Assert.Equal(HttpStatusCode.Created, create.StatusCode);
        }

        using var commit = await http.PostAsync($"/api/v1/models/{model}/versions/1/commit", null, Ct);
        Assert.Equal(HttpStatusCode.OK, commit.StatusCode);
    }
}
