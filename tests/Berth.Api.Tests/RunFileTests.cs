using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// Run files (attach uploaded blobs, list, download) and registering a run as a version, through a real server, with
/// the refusals: bad paths and digests, blobs not there for the caller, unknown and deleted runs, readers, a semantic
/// version already taken, an empty selection.
/// </summary>
public sealed class RunFileTests(RunFileTests.Fixture fixture) : IClassFixture<RunFileTests.Fixture>
{
    public sealed class Fixture : IAsyncLifetime
    {
        private TestServer? _server;

        public TestServer Server => _server ?? throw new InvalidOperationException("The server has not started.");

        public async ValueTask InitializeAsync() => _server = await TestServer.StartAsync();

        public async ValueTask DisposeAsync()
        {
            if (_server is not null)
            {
                await _server.DisposeAsync();
            }
        }
    }

    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly BerthJsonContext Json = BerthJsonContext.Default;

    private static byte[] Bytes(int size, int seed) => ModelFolder.Bytes(size, seed);

    private static string Sha(byte[] bytes) => Digest.Compute(bytes).ToString();

    private static string Runs(string ns, string model) => $"/api/v1/models/{ns}/{model}/runs";

    private async Task<RunInfo> StartAsync(string ns, string model, string body = "{}", HttpClient? http = null)
    {
        using var response = await (http ?? Server.Http).SendJsonAsync(HttpMethod.Post, Runs(ns, model), body, Ct);
        return await response.ReadAsync(Json.RunInfo);
    }

    private static async Task UploadAsync(HttpClient http, string ns, string model, byte[] bytes)
    {
        using var content = new ByteArrayContent(bytes);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        using var response = await http.PostAsync($"/api/v1/models/{ns}/{model}/uploads?digest={Sha(bytes)}&size={bytes.Length}", content, Ct);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    private static string FilesJson(params (string Path, byte[] Bytes)[] files) =>
        JsonSerializer.Serialize(new { files = files.Select(f => new { path = f.Path, size = f.Bytes.Length, digest = Sha(f.Bytes) }) });

    private static async Task<HttpResponseMessage> AttachAsync(HttpClient http, string ns, string model, string id, string json) =>
        await http.SendJsonAsync(HttpMethod.Post, $"{Runs(ns, model)}/{id}/files", json, Ct);

    private async Task<RunFileList> AttachOkAsync(string ns, string model, string id, params (string Path, byte[] Bytes)[] files)
    {
        foreach (var (_, bytes) in files)
        {
            await UploadAsync(Server.Http, ns, model, bytes);
        }

        using var response = await AttachAsync(Server.Http, ns, model, id, FilesJson(files));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.ReadAsync(Json.RunFileList);
    }

    private async Task<List<RunFileInfo>> ListAsync(string ns, string model, string id) =>
        (await Server.Http.GetFromJsonAsync($"{Runs(ns, model)}/{id}/files", Json.PageRunFileInfo, Ct))!.Items.ToList();

    private async Task<HttpResponseMessage> RegisterAsync(string ns, string model, string id, string json, HttpClient? http = null, params (string, string)[] headers) =>
        await (http ?? Server.Http).SendJsonAsync(HttpMethod.Post, $"{Runs(ns, model)}/{id}/register", json, Ct, headers);

    private async Task<int> VersionCountAsync(string ns, string model)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        return await db.Versions.CountAsync(v => v.Model.Name == model && v.Model.Namespace.Name == ns, Ct);
    }

    [Fact]
    public async Task AttachedFilesAreListedAndDownloadedLikeVersionFilesAndAttachingAPathAgainReplacesIt()
    {
        byte[] weights = Bytes(5000, 1), plot = Bytes(300, 2), newer = Bytes(700, 3);
        var run = await StartAsync("rf", "files");
        var attached = await AttachOkAsync("rf", "files", run.Id, ("model/weights.bin", weights), ("plots/loss.png", plot));
        Assert.Equal(["model/weights.bin", "plots/loss.png"], attached.Files.Select(f => f.Path));

        var listed = await ListAsync("rf", "files", run.Id);
        Assert.Equal(["model/weights.bin", "plots/loss.png"], listed.Select(f => f.Path));
        Assert.Equal(weights.Length, listed[0].Size);
        Assert.Equal(Sha(weights), listed[0].Digest);
        Assert.True(listed[0].Time > DateTimeOffset.UtcNow.AddMinutes(-5));

        using (var download = await Server.Http.GetAsync($"{Runs("rf", "files")}/{run.Id}/files/model/weights.bin", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal(weights, await download.Content.ReadAsByteArrayAsync(Ct));
            Assert.Equal($"\"{Sha(weights)}\"", download.Headers.ETag?.Tag);
            Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
            Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
            Assert.Equal(Sha(weights), download.Headers.GetValues("Berth-Digest").Single());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, $"{Runs("rf", "files")}/{run.Id}/files/model%2Fweights.bin"))
        {
            request.Headers.Range = new RangeHeaderValue(100, 199);
            using var partial = await Server.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
            Assert.Equal(weights[100..200], await partial.Content.ReadAsByteArrayAsync(Ct));
        }

        await using (var stream = await Server.Client.OpenRunFileAsync("rf", "files", run.Id, "plots/loss.png", cancellationToken: Ct))
        {
            using var copy = new MemoryStream();
            await stream.CopyToAsync(copy, Ct);
            Assert.Equal(plot, copy.ToArray());
        }

        var replaced = await AttachOkAsync("rf", "files", run.Id, ("plots/loss.png", newer));
        Assert.Equal(2, replaced.Files.Count);
        Assert.Equal(Sha(newer), replaced.Files.Single(f => f.Path == "plots/loss.png").Digest);
        using var missing = await Server.Http.GetAsync($"{Runs("rf", "files")}/{run.Id}/files/plots/none.png", Ct);
        await missing.AssertProblemAsync(HttpStatusCode.NotFound, "file_not_found");
    }

    [Fact]
    public async Task ARunTakesOnlyBlobsThatAreThereForTheCallerAndAttachesAllOrNothing()
    {
        await Server.CreateNamespaceIfMissingAsync("rfw");
        using var writer = await Server.AddUserAsync("rf-writer", "rfw", Roles.Writer);
        byte[] uploadedHere = Bytes(400, 10), uploadedElsewhere = Bytes(500, 11), never = Bytes(600, 12);
        var run = await StartAsync("rfw", "mine", http: writer.Http);
        await StartAsync("rfw", "other", http: writer.Http);
        await UploadAsync(writer.Http, "rfw", "mine", uploadedHere);
        await UploadAsync(writer.Http, "rfw", "other", uploadedElsewhere);

        // Bytes uploaded into another model (no ready version lists them) and bytes never uploaded are missing; nothing is attached.
        using (var refused = await AttachAsync(writer.Http, "rfw", "mine", run.Id, FilesJson(("a.bin", uploadedHere), ("b.bin", uploadedElsewhere), ("c.bin", never))))
        {
            var problem = await refused.AssertProblemAsync(HttpStatusCode.Conflict, "blobs_missing");
            Assert.Equal(new[] { Sha(uploadedElsewhere), Sha(never) }.Order(StringComparer.Ordinal),
                problem.GetProperty("missing").EnumerateArray().Select(e => e.GetString()!).Order(StringComparer.Ordinal));
        }

        Assert.Empty(await ListAsync("rfw", "mine", run.Id));

        // Uploaded into this model: attached. Another run of the model may then attach the same bytes without uploading.
        using (var ok = await AttachAsync(writer.Http, "rfw", "mine", run.Id, FilesJson(("a.bin", uploadedHere))))
        {
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        var second = await StartAsync("rfw", "mine", http: writer.Http);
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            // Forget the upload: what lets the second run take the bytes is that they are a file of a run of the model.
            await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().ModelUploads.ExecuteDeleteAsync(Ct);
        }

        using (var reused = await AttachAsync(writer.Http, "rfw", "mine", second.Id, FilesJson(("copy.bin", uploadedHere))))
        {
            Assert.Equal(HttpStatusCode.OK, reused.StatusCode);
        }

        // A declared size that is not the blob's.
        var wrongSize = JsonSerializer.Serialize(new { files = new[] { new { path = "a.bin", size = uploadedHere.Length + 1, digest = Sha(uploadedHere) } } });
        using (var mismatch = await AttachAsync(writer.Http, "rfw", "mine", run.Id, wrongSize))
        {
            await mismatch.AssertProblemAsync(HttpStatusCode.BadRequest, "size_mismatch");
        }

        Assert.Equal(uploadedHere.Length, (await ListAsync("rfw", "mine", run.Id)).Single().Size);

        // A writer registers the run: the bytes no ready version listed become a ready version without an upload.
        using var registered = await RegisterAsync("rfw", "mine", run.Id, "{}", writer.Http);
        Assert.Equal(HttpStatusCode.Created, registered.StatusCode);
        Assert.Equal(VersionStates.Ready, (await registered.ReadAsync(Json.VersionInfo)).State);
    }

    [Theory]
    [InlineData("../escape.bin", "invalid_path")]
    [InlineData("/absolute.bin", "invalid_path")]
    [InlineData("a\\\\b.bin", "invalid_path")]
    [InlineData("CON.txt", "invalid_path")]
    [InlineData("", "invalid_path")]
    public async Task ABadPathIsRefusedAndNothingIsAttached(string path, string code)
    {
        var bytes = Bytes(100, 20);
        var run = await StartAsync("rf", "paths");
        await UploadAsync(Server.Http, "rf", "paths", bytes);
        var json = $$"""{"files":[{"path":"ok.bin","size":{{bytes.Length}},"digest":"{{Sha(bytes)}}"},{"path":"{{path}}","size":{{bytes.Length}},"digest":"{{Sha(bytes)}}"}]}""";
        using var response = await AttachAsync(Server.Http, "rf", "paths", run.Id, json);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, code);
        Assert.Empty(await ListAsync("rf", "paths", run.Id));
    }

    [Fact]
    public async Task APathThatClashesWithAFileTheRunHoldsAndAMalformedDigestAreRefused()
    {
        var bytes = Bytes(100, 21);
        var run = await StartAsync("rf", "clash");
        await AttachOkAsync("rf", "clash", run.Id, ("model.bin", bytes));
        using (var clash = await AttachAsync(Server.Http, "rf", "clash", run.Id, FilesJson(("Model.bin", bytes))))
        {
            await clash.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_path");
        }

        using (var folder = await AttachAsync(Server.Http, "rf", "clash", run.Id, FilesJson(("model.bin/inner.bin", bytes))))
        {
            await folder.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_path");
        }

        using (var digest = await AttachAsync(Server.Http, "rf", "clash", run.Id, """{"files":[{"path":"x.bin","size":1,"digest":"sha256:nothex"}]}"""))
        {
            await digest.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_digest");
        }

        using (var empty = await AttachAsync(Server.Http, "rf", "clash", run.Id, """{"files":[]}"""))
        {
            await empty.AssertProblemAsync(HttpStatusCode.BadRequest, "empty_version");
        }

        Assert.Equal(["model.bin"], (await ListAsync("rf", "clash", run.Id)).Select(f => f.Path));
    }

    [Fact]
    public async Task UnknownAndDeletedRunsAreNotFoundAndEndedRunsStillTakeFiles()
    {
        var bytes = Bytes(100, 30);
        await UploadAsync(Server.Http, "rf", "gone", bytes);
        await StartAsync("rf", "gone");
        foreach (var id in new[] { "aaaaaaaaaaaa", "not-a-run-id" })
        {
            using var attach = await AttachAsync(Server.Http, "rf", "gone", id, FilesJson(("a.bin", bytes)));
            await attach.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
            using var list = await Server.Http.GetAsync($"{Runs("rf", "gone")}/{id}/files", Ct);
            await list.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
            using var register = await RegisterAsync("rf", "gone", id, "{}");
            await register.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
        }

        var ended = await StartAsync("rf", "gone");
        await Server.Client.FinishRunAsync("rf", "gone", ended.Id, RunStatuses.Failed, Ct);
        await AttachOkAsync("rf", "gone", ended.Id, ("a.bin", bytes));

        await Server.Client.DeleteRunAsync("rf", "gone", ended.Id, Ct);
        using (var attach = await AttachAsync(Server.Http, "rf", "gone", ended.Id, FilesJson(("b.bin", bytes))))
        {
            await attach.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
        }

        using (var register = await RegisterAsync("rf", "gone", ended.Id, "{}"))
        {
            await register.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
        }

        using var download = await Server.Http.GetAsync($"{Runs("rf", "gone")}/{ended.Id}/files/a.bin", Ct);
        await download.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
    }

    [Fact]
    public async Task AReaderCanListAndDownloadButNotAttachOrRegister()
    {
        await Server.CreateNamespaceIfMissingAsync("rfr");
        using var reader = await Server.AddUserAsync("rf-reader", "rfr", Roles.Reader);
        var bytes = Bytes(100, 40);
        var run = await StartAsync("rfr", "m");
        await AttachOkAsync("rfr", "m", run.Id, ("a.bin", bytes));

        using (var attach = await AttachAsync(reader.Http, "rfr", "m", run.Id, FilesJson(("b.bin", bytes))))
        {
            await attach.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        }

        using (var register = await RegisterAsync("rfr", "m", run.Id, "{}", reader.Http))
        {
            await register.AssertProblemAsync(HttpStatusCode.Forbidden, "forbidden");
        }

        Assert.Equal(bytes, await reader.Http.GetByteArrayAsync($"{Runs("rfr", "m")}/{run.Id}/files/a.bin", Ct));
        Assert.Equal(0, await VersionCountAsync("rfr", "m"));
        Assert.Single(await ListAsync("rfr", "m", run.Id));
    }

    [Fact]
    public async Task RegisteringARunMakesAReadyVersionFromItsFilesWithItsLineageParamsAndFinalMetrics()
    {
        byte[] weights = Bytes(3000, 50), config = Bytes(200, 51), plot = Bytes(100, 52);
        var run = await StartAsync("rf", "reg", """{"params":{"lr":"0.01","epochs":"3"},"lineage":{"gitRepository":"https://git.example/acme/fraud","gitCommit":"abcdef12","gitDirty":true,"datasets":[{"uri":"s3://d/train","digest":"sha256:abc"}]}}""");
        await Server.Client.LogMetricsAsync("rf", "reg", run.Id, new MetricBatch([new("auc", 0, 0.8), new("auc", 1, 0.91), new("loss", 1, double.NaN), new("acc", 1, 0.7)]), Ct);
        await AttachOkAsync("rf", "reg", run.Id, ("model/weights.bin", weights), ("model/config.json", config), ("plots/loss.png", plot));
        var blobs = await BlobRowsAsync();

        using var response = await RegisterAsync("rf", "reg", run.Id, """{"version":"1.4.0","path":"model/","description":"from the run","metrics":{"acc":0.75},"params":{"note":"x"},"tags":{"team":"risk"},"aliases":["candidate"]}""");
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var version = await response.ReadAsync(Json.VersionInfo);
        Assert.Equal(VersionStates.Ready, version.State);
        Assert.Equal("1.4.0", version.SemVer);
        Assert.Equal(2, version.FileCount);
        Assert.Equal(weights.Length + config.Length, version.TotalSize);
        Assert.Equal(["candidate"], version.Aliases);
        Assert.Equal(run.Id, version.Lineage.RunId);
        Assert.Equal("abcdef12", version.Lineage.GitCommit);
        Assert.Equal("https://git.example/acme/fraud", version.Lineage.GitRepository);
        Assert.True(version.Lineage.GitDirty);
        Assert.Equal("s3://d/train", version.Lineage.Datasets!.Single().Uri);
        Assert.Equal(new Dictionary<string, double> { ["acc"] = 0.75, ["auc"] = 0.91 }, version.Metrics);
        Assert.Equal(new Dictionary<string, string> { ["epochs"] = "3", ["lr"] = "0.01", ["note"] = "x" }, version.Params);
        Assert.Equal("risk", version.Tags["team"]);
        Assert.Equal(blobs, await BlobRowsAsync());

        var withFiles = await Server.Client.GetVersionAsync(ModelReference.Parse("rf/reg:1.4.0"), withFiles: true, cancellationToken: Ct);
        Assert.Equal(["config.json", "weights.bin"], withFiles.Files!.Select(f => f.Path));
        Assert.Equal(weights, await Server.Http.GetByteArrayAsync("/api/v1/models/rf/reg/versions/1.4.0/files/weights.bin", Ct));

        var shown = await Server.Client.GetRunAsync("rf", "reg", run.Id, Ct);
        Assert.Equal([new RunVersionRef(version.Number, "1.4.0")], shown.Versions!);
        var events = await Server.Http.GetStringAsync("/api/v1/events?type=run.registered&namespace=rf&limit=1000", Ct);
        Assert.Contains(run.Id, events, StringComparison.Ordinal);
        var audit = await Server.Http.GetStringAsync("/api/v1/audit?action=run.register&limit=1000", Ct);
        Assert.Contains(run.Id, audit, StringComparison.Ordinal);

        // The same semantic version again: 409, and no new version.
        var count = await VersionCountAsync("rf", "reg");
        using (var again = await RegisterAsync("rf", "reg", run.Id, """{"version":"1.4.0"}"""))
        {
            await again.AssertProblemAsync(HttpStatusCode.Conflict, "version_exists");
        }

        Assert.Equal(count, await VersionCountAsync("rf", "reg"));

        // Without a path every file is registered, under its own path.
        var all = await Server.Client.RegisterRunAsync("rf", "reg", run.Id, cancellationToken: Ct);
        Assert.Equal(3, all.FileCount);
    }

    [Fact]
    public async Task RegisteringNothingOrABadPathIsRefusedAndCreatesNoVersion()
    {
        var bytes = Bytes(100, 60);
        var empty = await StartAsync("rf", "none");
        using (var noFiles = await RegisterAsync("rf", "none", empty.Id, "{}"))
        {
            await noFiles.AssertProblemAsync(HttpStatusCode.BadRequest, "empty_selection");
        }

        var run = await StartAsync("rf", "none");
        await AttachOkAsync("rf", "none", run.Id, ("model/a.bin", bytes));
        using (var elsewhere = await RegisterAsync("rf", "none", run.Id, """{"path":"other/"}"""))
        {
            var problem = await elsewhere.AssertProblemAsync(HttpStatusCode.BadRequest, "empty_selection");
            Assert.Equal("other/", problem.GetProperty("path").GetString());
        }

        // A prefix selects whole folder names only: "mod" is not "model/".
        using (var partial = await RegisterAsync("rf", "none", run.Id, """{"path":"mod"}"""))
        {
            await partial.AssertProblemAsync(HttpStatusCode.BadRequest, "empty_selection");
        }

        foreach (var bad in new[] { "../model/", "/model/", "model//x" })
        {
            using var response = await RegisterAsync("rf", "none", run.Id, JsonSerializer.Serialize(new { path = bad }));
            await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_path");
        }

        using (var semver = await RegisterAsync("rf", "none", run.Id, """{"version":"not-a-version"}"""))
        {
            await semver.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_version");
        }

        Assert.Equal(0, await VersionCountAsync("rf", "none"));
    }

    [Fact]
    public async Task RegisteringFollowsQuotasAndIdempotencyKeysLikeAPush()
    {
        var bytes = Bytes(100, 70);
        await Server.CreateNamespaceIfMissingAsync("rfq");
        var run = await StartAsync("rfq", "m");
        await AttachOkAsync("rfq", "m", run.Id, ("a.bin", bytes));

        var key = ("Idempotency-Key", "register-" + run.Id);
        using var first = await RegisterAsync("rfq", "m", run.Id, """{"version":"1.0.0"}""", null, key);
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        using var replay = await RegisterAsync("rfq", "m", run.Id, """{"version":"1.0.0"}""", null, key);
        Assert.Equal(HttpStatusCode.Created, replay.StatusCode);
        Assert.Equal("true", replay.Headers.GetValues("Idempotent-Replayed").Single());
        Assert.Equal(1, await VersionCountAsync("rfq", "m"));

        using (var quota = await Server.Http.SendJsonAsync(HttpMethod.Put, "/api/v1/namespaces/rfq/quota", """{"maxBytes":null,"maxVersions":1}""", Ct))
        {
            Assert.Equal(HttpStatusCode.OK, quota.StatusCode);
        }

        using var over = await RegisterAsync("rfq", "m", run.Id, "{}");
        await over.AssertProblemAsync(HttpStatusCode.Conflict, "quota_exceeded");
        Assert.Equal(1, await VersionCountAsync("rfq", "m"));
    }

    [Fact]
    public async Task APushNamingARunNeedsARunOfThatModelAndItsCommitPublishesRunRegistered()
    {
        var bytes = Bytes(100, 80);
        var run = await StartAsync("rf", "pushed");
        var other = await StartAsync("rf", "elsewhere");
        await UploadAsync(Server.Http, "rf", "pushed", bytes);
        foreach (var id in new[] { other.Id, "bbbbbbbbbbbb", "free text" })
        {
            var body = JsonSerializer.Serialize(new { files = new[] { new { path = "a.bin", size = bytes.Length, digest = Sha(bytes) } }, lineage = new { runId = id } });
            using var refused = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/rf/pushed/versions", body, Ct);
            await refused.AssertProblemAsync(HttpStatusCode.NotFound, "run_not_found");
        }

        Assert.Equal(0, await VersionCountAsync("rf", "pushed"));
        var declared = await Server.Client.CreateVersionAsync("rf", "pushed",
            new CreateVersionRequest([new FileEntry("a.bin", bytes.Length, Sha(bytes))], Lineage: new Lineage(RunId: run.Id)), cancellationToken: Ct);
        var committed = await Server.Client.CommitVersionAsync("rf", "pushed", declared.Version.Number, Ct);
        Assert.Equal(run.Id, committed.Lineage.RunId);
        Assert.Equal([new RunVersionRef(committed.Number, null)], (await Server.Client.GetRunAsync("rf", "pushed", run.Id, Ct)).Versions!);
        var events = await Server.Http.GetStringAsync("/api/v1/events?type=run.registered&namespace=rf&limit=1000", Ct);
        Assert.Contains(run.Id, events, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheSdkUploadsAFolderAsRunFilesSendingOnlyWhatTheServerLacksAndRegistersIt()
    {
        using var folder = new ModelFolder(("model/weights.bin", 20_000), ("model/config.json", 300), ("log.txt", 50));
        await using var run = await Server.Client.StartRunAsync("rf", "sdk", cancellationToken: Ct);
        run.Log("loss", 0.5, 1);

        var first = await run.UploadFilesAsync(folder.Root, Ct);
        Assert.Equal(3, first.FilesUploaded);
        Assert.Equal(["log.txt", "model/config.json", "model/weights.bin"], first.Files.Select(f => f.Path));

        var again = await run.UploadFilesAsync(folder.Root, Ct);
        Assert.Equal(0, again.FilesUploaded);
        Assert.Equal(3, again.Files.Count);

        var version = await run.RegisterAsync(new RegisterRunRequest(Path: "model"), Ct);
        Assert.Equal(VersionStates.Ready, version.State);
        Assert.Equal(2, version.FileCount);
        Assert.Equal(run.Id, version.Lineage.RunId);
    }

    private async Task<int> BlobRowsAsync()
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().Blobs.CountAsync(Ct);
    }
}
