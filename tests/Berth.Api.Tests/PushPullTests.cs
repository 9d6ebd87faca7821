using System.Formats.Tar;
using System.Net;
using System.Net.Http.Headers;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

public sealed class PushPullTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task PushedFolderPullsBackByteIdenticalThroughEverySelector()
    {
        using var model = new ModelFolder(("model.bin", 3 * 1024 * 1024 + 17), ("config.json", 300), ("tokenizer/vocab.txt", 40_000), ("empty.txt", 0));
        var pushed = await Server.Client.PushAsync(model.Root, "acme", "fraud", new PushOptions
        {
            Version = "1.2.0",
            Description = "GBM, 2026-11 data",
            Metrics = new Dictionary<string, double> { ["auc"] = 0.931, ["f1"] = 0.88 },
            Params = new Dictionary<string, string> { ["lr"] = "0.01" },
            Tags = new Dictionary<string, string> { ["team"] = "risk" },
            Aliases = ["candidate"],
            Lineage = new Lineage(GitCommit: "3f2a9c1", Datasets: [new DatasetRef("s3://data/train.parquet")]),
        }, cancellationToken: Ct);

        var version = pushed.Version;
        Assert.Equal(VersionStates.Ready, version.State);
        Assert.Equal("1.2.0", version.SemVer);
        Assert.Equal(4, version.FileCount);
        Assert.Equal(["candidate"], version.Aliases);
        Assert.Equal(0.931, version.Metrics["auc"]);
        Assert.Equal("3f2a9c1", version.Lineage.GitCommit);
        Assert.Equal("s3://data/train.parquet", Assert.Single(version.Lineage.Datasets!).Uri);

        // A newer version whose bytes never arrive stays pending: 'latest' keeps naming the ready one.
        var pending = $$"""{"files":[{"path":"model.bin","size":5,"digest":"sha256:{{new string('c', 64)}}"}]}""";
        using (var declared = await Server.Http.SendJsonAsync(HttpMethod.Post, "/api/v1/models/acme/fraud/versions", pending, Ct))
        {
            Assert.Equal(System.Net.HttpStatusCode.Created, declared.StatusCode);
        }

        foreach (var selector in new[] { "candidate", $"{version.Number}", "1.2.0", "v1.2.0", "latest", version.ManifestDigest })
        {
            var reference = ModelReference.Parse(selector.StartsWith("sha256:", StringComparison.Ordinal) ? $"acme/fraud@{selector}" : $"acme/fraud:{selector}");
            var output = TempFolder.Create("berth-pull");
            try
            {
                var pulled = await Server.Client.PullAsync(reference, output, new PullOptions(), cancellationToken: Ct);
                Assert.Equal(version.Number, pulled.Version.Number);
                ModelFolder.AssertSameTree(model.Root, output);
            }
            finally
            {
                TempFolder.Delete(output);
            }
        }
    }

    [Fact]
    public async Task RepushingUnchangedFilesUploadsNothingAndIdenticalBytesAreStoredOnce()
    {
        using var model = new ModelFolder(("weights.bin", 2 * 1024 * 1024), ("README.md", 1000));
        var first = await Server.Client.PushAsync(model.Root, "dedup", "one", new PushOptions(), cancellationToken: Ct);
        var second = await Server.Client.PushAsync(model.Root, "dedup", "one", new PushOptions { AllowUnchanged = true }, cancellationToken: Ct);
        var other = await Server.Client.PushAsync(model.Root, "dedup", "another", new PushOptions(), cancellationToken: Ct);

        Assert.Equal(2, first.FilesUploaded);
        Assert.Equal(0, second.FilesUploaded);
        Assert.Equal(0, other.FilesUploaded);
        Assert.Equal(first.Version.Number + 1, second.Version.Number);
        Assert.Equal(first.Version.Number, second.SameContentAs?.Number);
        Assert.Null(other.SameContentAs);
        Assert.Equal(first.Version.ManifestDigest, other.Version.ManifestDigest);

        await using var scope = Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var digests = (await Server.Client.GetVersionAsync(ModelReference.Parse("dedup/one:1"), withFiles: true, Ct)).Files!.Select(f => f.Digest).ToList();
        Assert.Equal(2, await db.Blobs.CountAsync(b => digests.Contains(b.Digest), Ct));
        var blobFiles = Directory.EnumerateFiles(Path.Combine(Server.DataDirectory, "store", "blobs"), "*", SearchOption.AllDirectories)
            .Count(f => digests.Any(d => d.EndsWith(Path.GetFileName(f), StringComparison.Ordinal)));
        Assert.Equal(2, blobFiles);
    }

    [Fact]
    public async Task PushingContentThatIsAlreadyAReadyVersionCreatesNoVersionAndMovesTheAliases()
    {
        using var model = new ModelFolder(("weights.bin", 5000), ("config.json", 30));
        var first = await Server.Client.PushAsync(model.Root, "same", "fraud", new PushOptions(), cancellationToken: Ct);

        var again = await Server.Client.PushAsync(model.Root, "same", "fraud", new PushOptions
        {
            Aliases = ["champion"],
            Metrics = new Dictionary<string, double> { ["auc"] = 0.99 },
        }, cancellationToken: Ct);

        Assert.True(again.Unchanged);
        Assert.Equal(first.Version.Number, again.Version.Number);
        Assert.Equal(first.Version.Number, again.SameContentAs?.Number);
        Assert.Equal(["champion"], again.Version.Aliases);
        Assert.Equal("applied", Assert.Single(again.AliasMoves).Outcome);
        Assert.Equal(0, again.FilesUploaded);
        Assert.Empty(again.Version.Metrics);
        Assert.Equal([first.Version.Number], await Server.Client.ListVersionsAsync("same", "fraud", allStates: true, Ct).Select(v => v.Number).ToListAsync(Ct));

        // With a semantic version the content becomes a new version all the same.
        var versioned = await Server.Client.PushAsync(model.Root, "same", "fraud", new PushOptions { Version = "1.0.0" }, cancellationToken: Ct);
        Assert.False(versioned.Unchanged);
        Assert.Equal(first.Version.Number + 1, versioned.Version.Number);
        Assert.Equal(first.Version.Number, versioned.SameContentAs?.Number);
    }

    [Fact]
    public async Task AVersionAskedForByDigestNamesTheOtherVersionsWithTheSameContent()
    {
        using var model = new ModelFolder(("weights.bin", 777));
        var first = await Server.Client.PushAsync(model.Root, "same", "digest", new PushOptions(), cancellationToken: Ct);
        await Server.Client.PushAsync(model.Root, "same", "digest", new PushOptions { Version = "2.0.0" }, cancellationToken: Ct);
        await Server.Client.PushAsync(model.Root, "same", "digest", new PushOptions { AllowUnchanged = true }, cancellationToken: Ct);
        await Server.Client.DeleteVersionAsync(ModelReference.Parse("same/digest:3"), cancellationToken: Ct);

        var byDigest = await Server.Client.GetVersionAsync(ModelReference.Parse($"same/digest@{first.Version.ManifestDigest}"), cancellationToken: Ct);
        Assert.Equal(1, byDigest.Number);
        Assert.Equal([2], byDigest.SameContent);

        var byNumber = await Server.Client.GetVersionAsync(ModelReference.Parse("same/digest:2"), cancellationToken: Ct);
        Assert.Null(byNumber.SameContent);
    }

    [Fact]
    public async Task AnEmptyFolderIsRefusedBeforeAnythingIsDeclared()
    {
        var empty = TempFolder.Create("berth-empty");
        try
        {
            var refused = await Assert.ThrowsAsync<ArgumentException>(() => Server.Client.PushAsync(empty, "same", "empty", new PushOptions(), cancellationToken: Ct));
            Assert.Contains("there is nothing to push", refused.Message, StringComparison.Ordinal);
            await Assert.ThrowsAsync<Berth.Client.BerthProblemException>(() => Server.Client.GetModelAsync("same", "empty", Ct));
        }
        finally
        {
            TempFolder.Delete(empty);
        }
    }

    [Fact]
    public async Task FilesStreamedWhileHashingArriveIntactAndAreCancelledWhenTheServerHasThem()
    {
        using var model = new ModelFolder(("big-a.bin", 3 * 1024 * 1024), ("big-b.bin", 2 * 1024 * 1024), ("copy-of-a.bin", 0), ("small.txt", 10));
        File.Copy(Path.Combine(model.Root, "big-a.bin"), Path.Combine(model.Root, "copy-of-a.bin"), overwrite: true);
        var streaming = new PushOptions { StreamWhileHashingThreshold = 1024 * 1024, SingleRequestLimit = 1024 };
        var first = await Server.Client.PushAsync(model.Root, "stream", "hashing", streaming, cancellationToken: Ct);
        Assert.Equal(3, first.FilesUploaded);

        var output = TempFolder.Create("berth-pull");
        try
        {
            await Server.Client.PullAsync(ModelReference.Parse("stream/hashing"), output, new PullOptions(), cancellationToken: Ct);
            ModelFolder.AssertSameTree(model.Root, output);
        }
        finally
        {
            TempFolder.Delete(output);
        }

        // Without a digest cache the big files are streamed again, then cancelled: the server has them.
        var again = await Server.Client.PushAsync(model.Root, "stream", "hashing", streaming, cancellationToken: Ct);
        Assert.Equal(0, again.FilesUploaded);
        await using var scope = Server.Services.CreateAsyncScope();
        Assert.Equal(0, await scope.ServiceProvider.GetRequiredService<RegistryDbContext>().UploadSessions.CountAsync(Ct));
        Assert.Empty(Directory.EnumerateDirectories(Path.Combine(Server.DataDirectory, "store", "uploads")));
    }

    [Fact]
    public async Task FilesDownloadWithRangesETagsAndDigestHeaders()
    {
        using var model = new ModelFolder(("data/weights.bin", 100_000));
        var version = (await Server.Client.PushAsync(model.Root, "acme", "ranges", new PushOptions(), cancellationToken: Ct)).Version;
        var bytes = await File.ReadAllBytesAsync(Path.Combine(model.Root, "data", "weights.bin"), Ct);
        var digest = ModelFolder.Sha256(bytes);
        var url = $"/api/v1/models/acme/ranges/versions/{version.Number}/files/data/weights.bin";

        using var whole = await Server.Http.GetAsync(url, Ct);
        Assert.Equal(HttpStatusCode.OK, whole.StatusCode);
        Assert.Equal(bytes, await whole.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal($"\"{digest}\"", whole.Headers.ETag!.ToString());
        Assert.Equal(digest, whole.Headers.GetValues("Berth-Digest").Single());
        Assert.StartsWith("sha-256=:", whole.Headers.GetValues("Repr-Digest").Single(), StringComparison.Ordinal);

        using var rangeRequest = new HttpRequestMessage(HttpMethod.Get, url);
        rangeRequest.Headers.Range = new RangeHeaderValue(1000, 1999);
        using var range = await Server.Http.SendAsync(rangeRequest, Ct);
        Assert.Equal(HttpStatusCode.PartialContent, range.StatusCode);
        Assert.Equal(bytes[1000..2000], await range.Content.ReadAsByteArrayAsync(Ct));

        using var conditional = new HttpRequestMessage(HttpMethod.Get, url);
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{digest}\""));
        using var notModified = await Server.Http.SendAsync(conditional, Ct);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        using var head = await Server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, url), Ct);
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        Assert.Empty(await head.Content.ReadAsByteArrayAsync(Ct));

        using var beyond = new HttpRequestMessage(HttpMethod.Get, url);
        beyond.Headers.Range = new RangeHeaderValue(200_000, null);
        using var unsatisfiable = await Server.Http.SendAsync(beyond, Ct);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
    }

    [Fact]
    public async Task ArchiveStreamsTheWholeVersionAsTar()
    {
        using var model = new ModelFolder(("a.bin", 5000), ("deep/nested/b.txt", 70), ("c", 0));
        var version = (await Server.Client.PushAsync(model.Root, "acme", "archive", new PushOptions(), cancellationToken: Ct)).Version;
        using var buffer = new MemoryStream();
        await Server.Client.DownloadArchiveAsync(ModelReference.Parse($"acme/archive:{version.Number}"), buffer, cancellationToken: Ct);
        buffer.Position = 0;
        var output = TempFolder.Create("berth-untar");
        try
        {
            await TarFile.ExtractToDirectoryAsync(buffer, output, overwriteFiles: false, Ct);
            ModelFolder.AssertSameTree(model.Root, output);
        }
        finally
        {
            TempFolder.Delete(output);
        }
    }

    [Fact]
    public async Task ManifestBytesHashToTheVersionDigest()
    {
        using var model = new ModelFolder(("x.bin", 1234), ("y/z.bin", 99));
        var version = (await Server.Client.PushAsync(model.Root, "acme", "manifest", new PushOptions(), cancellationToken: Ct)).Version;
        var manifest = await Server.Client.GetManifestAsync(ModelReference.Parse("acme/manifest"), Ct);
        Assert.Equal(version.ManifestDigest, Digest.Compute(manifest).ToString());
        var files = await Server.Client.ListFilesAsync(ModelReference.Parse("acme/manifest:1"), Ct).ToListAsync(Ct);
        Assert.Equal(version.ManifestDigest, VersionManifest.ComputeDigest(files).ToString());
    }
}
