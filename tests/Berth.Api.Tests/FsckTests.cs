using System.Diagnostics;
using System.Net;
using Amazon.S3;
using Amazon.S3.Model;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Leases;
using Berth.Core.Scrub;
using Berth.Testing.S3;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

/// <summary>
/// The scrub (<c>POST /api/v1/fsck</c>, <c>berth fsck</c>) on the filesystem store and on S3: bytes corrupted, cut short
/// or deleted behind the registry's back and stray bytes are each reported with the versions they affect; quarantine
/// makes downloads, archives and pulls of those versions fail with <c>blob_corrupt</c> instead of serving bad bytes,
/// and a scrub that finds the bytes restored lifts it; the result is in /metrics and the audit log.
/// </summary>
public sealed class FsckTests : IAsyncLifetime
{
    // Ahead of the real clock, so that bytes written now (stray objects in S3 cannot be back-dated) are past the grace period.
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow.AddHours(3));
    private readonly string _prefix = TestS3.NewPrefix("fsck");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => await TestS3.EnsureBucketAsync(Ct);

    public async ValueTask DisposeAsync() => await TestS3.DeletePrefixAsync(_prefix, CancellationToken.None);

    [Theory]
    [InlineData("filesystem")]
    [InlineData("s3")]
    public async Task ProblemsAreReportedWithTheirVersionsAndQuarantineStopsServingThemUntilTheBytesAreBack(string backend)
    {
        // Without the OCI manifests built in the background, whose config blobs the scrub would count too (or not, by timing).
        await using var server = await TestServer.StartAsync(services => services.AddSingleton<TimeProvider>(_clock),
            ["--Oci:BuildInBackground=false", .. backend == "s3" ? ["--blobs", TestS3.Setting(_prefix)] : Array.Empty<string>()]);
        var store = backend == "s3" ? (Store)new S3Store(_prefix) : new FolderStore(Path.Combine(server.DataDirectory, "store"));
        byte[] corrupt = ModelFolder.Bytes(5000, 1), gone = ModelFolder.Bytes(3000, 2), shorter = ModelFolder.Bytes(2000, 3), fine = ModelFolder.Bytes(1000, 4);
        await PushAsync(server, "fraud", ("weights.bin", corrupt), ("ok.bin", fine));
        await PushAsync(server, "fraud", ("weights.bin", gone));
        await PushAsync(server, "other", ("copy.bin", corrupt), ("short.bin", shorter));
        var stray = ModelFolder.Bytes(700, 5);

        var flipped = (byte[])corrupt.Clone();
        flipped[1234] ^= 0xFF;
        await store.WriteAsync(Sha(corrupt), flipped);
        await store.DeleteAsync(Sha(gone));
        await store.WriteAsync(Sha(shorter), shorter[..1500]);
        await store.WriteAsync(Sha(stray), stray);

        // Reported, each with the versions it affects; nothing quarantined yet.
        var (problems, report) = await FsckAsync(server, quarantine: false);
        Assert.Equal((4, 4, 1, 1, 1, 1, 0), (report.BlobsChecked, report.Problems, report.Missing, report.SizeMismatches, report.DigestMismatches, report.Strays, report.Quarantined));
        Assert.Equal(4, report.StoredChecked);
        var bad = problems.Single(p => p.Digest == Sha(corrupt));
        Assert.Equal((FsckProblemKinds.DigestMismatch, Sha(flipped)), (bad.Kind, bad.ActualDigest));
        Assert.Equal(["acme/fraud:1", "acme/other:1"], bad.Versions);
        Assert.False(bad.Quarantined);
        var missing = problems.Single(p => p.Digest == Sha(gone));
        Assert.Equal(FsckProblemKinds.Missing, missing.Kind);
        Assert.Equal(["acme/fraud:2"], missing.Versions);
        var cut = problems.Single(p => p.Digest == Sha(shorter));
        Assert.Equal((FsckProblemKinds.SizeMismatch, 2000L, 1500L), (cut.Kind, cut.Size!.Value, cut.ActualSize!.Value));
        var extra = problems.Single(p => p.Digest == Sha(stray));
        Assert.Equal((FsckProblemKinds.Stray, 700L), (extra.Kind, extra.ActualSize!.Value));
        Assert.Empty(extra.Versions);

        // Quarantined: the affected files fail loudly, everywhere; the others still serve.
        (problems, report) = await FsckAsync(server, quarantine: true);
        Assert.Equal(3, report.Quarantined);
        Assert.All(problems.Where(p => p.Kind != FsckProblemKinds.Stray), p => Assert.True(p.Quarantined));
        using (var download = await server.Http.GetAsync("/api/v1/models/acme/fraud/versions/1/files/weights.bin", Ct))
        {
            var problem = await download.AssertProblemAsync(HttpStatusCode.Conflict, "blob_corrupt");
            Assert.Contains("weights.bin", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
            Assert.Equal(Sha(corrupt), problem.GetProperty("digest").GetString());
        }

        using (var archive = await server.Http.GetAsync("/api/v1/models/acme/other/versions/1/archive", Ct))
        {
            await archive.AssertProblemAsync(HttpStatusCode.Conflict, "blob_corrupt");
        }

        var output = TempFolder.Create("berth-fsck-pull");
        try
        {
            var pull = await Assert.ThrowsAsync<BerthProblemException>(() =>
                server.Client.PullAsync(ModelReference.Parse("acme/fraud:2"), output, new PullOptions(), cancellationToken: Ct));
            Assert.Equal("blob_corrupt", pull.Code);
            Assert.False(File.Exists(Path.Combine(output, "weights.bin")));
        }
        finally
        {
            TempFolder.Delete(output);
        }

        Assert.Equal(fine, await server.Http.GetByteArrayAsync("/api/v1/models/acme/fraud/versions/1/files/ok.bin", Ct));
        Assert.Equal(["weights.bin"], (await server.Client.GetVersionAsync(Versions.Ref("acme", "fraud", 1), cancellationToken: Ct)).QuarantinedFiles);

        // The result is in /metrics and the audit log.
        var metrics = await server.Http.GetStringAsync("/metrics", Ct);
        Assert.Equal(4, Metric(metrics, "berth_fsck_problems"));
        Assert.Equal(4, Metric(metrics, "berth_fsck_blobs_checked"));
        Assert.Equal(_clock.GetUtcNow().ToUnixTimeSeconds(), Metric(metrics, "berth_fsck_last_run_timestamp"), tolerance: 5);
        var audit = await server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(2, audit.Count(e => e.Action == "fsck.run"));
        Assert.Equal(new[] { Sha(corrupt), Sha(gone), Sha(shorter) }.Order(StringComparer.Ordinal),
            audit.Where(e => e.Action == "blob.quarantine").Select(e => e.Target!).Order(StringComparer.Ordinal));

        // Restored (as from a backup): the next scrub lifts the quarantine and the bytes serve again.
        await store.WriteAsync(Sha(corrupt), corrupt);
        (problems, report) = await FsckAsync(server, quarantine: false);
        Assert.Equal([Sha(corrupt)], report.ReleasedDigests);
        Assert.Equal(3, report.Problems);
        Assert.Equal(corrupt, await server.Http.GetByteArrayAsync("/api/v1/models/acme/other/versions/1/files/copy.bin", Ct));
        Assert.Null((await server.Client.GetVersionAsync(Versions.Ref("acme", "fraud", 1), cancellationToken: Ct)).QuarantinedFiles);
        Assert.Contains(await server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct), e => e.Action == "blob.release" && e.Target == Sha(corrupt));
    }

    [Fact]
    public async Task AScrubIsOverWhenItsEnumerationEndsSoTheNextOneIsNotRefused()
    {
        // The report is the last line, but the server releases the scrub's lease after writing it: a client that stopped
        // at the report returned while the scrub still held it, and a scrub started right away was refused (CI saw it).
        await using var server = await TestServer.StartAsync();
        var answers = new AnswerWatch();
        using var client = new BerthClient(new BerthClientOptions { BaseUri = server.Address, Token = server.AdminToken }, answers);
        for (var i = 0; i < 3; i++)
        {
            await foreach (var line in client.RunFsckAsync(cancellationToken: Ct))
            {
                Assert.Equal(0, answers.Ended);
            }

            Assert.Equal(1, answers.Ended);
            answers.Ended = 0;
        }
    }

    /// <summary>Counts the answers read to their end.</summary>
    private sealed class AnswerWatch() : DelegatingHandler(new SocketsHttpHandler())
    {
        public int Ended;

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var body = await response.Content.ReadAsStreamAsync(cancellationToken);
            var content = new StreamContent(new EndWatch(body, () => Ended++));
            foreach (var header in response.Content.Headers)
            {
                content.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = content;
            return response;
        }
    }

    private sealed class EndWatch(Stream inner, Action ended) : Stream
    {
        private bool _ended;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Seen(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Seen(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private int Seen(int read)
        {
            if (read == 0 && !_ended)
            {
                _ended = true;
                ended();
            }

            return read;
        }
    }

    [Fact]
    public async Task TheScrubReadsNoFasterThanItsRate()
    {
        await using var server = await TestServer.StartAsync(services =>
            services.Configure<RegistryOptions>(o => o.FsckBytesPerSecond = 1024 * 1024));
        await PushAsync(server, "big", ("weights.bin", ModelFolder.Bytes(3 * 1024 * 1024, 6)));

        // 3 MiB at 1 MiB/s: at least two seconds however fast the machine (the first chunk is free).
        var clock = Stopwatch.StartNew();
        var (_, report) = await FsckAsync(server, quarantine: false);
        Assert.Equal(3L * 1024 * 1024, report.BytesChecked);
        Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1.9), $"The scrub read 3 MiB in {clock.Elapsed}.");
    }

    [Fact]
    public async Task OneScrubRunsAtATime()
    {
        await using var server = await TestServer.StartAsync();
        await using (var scope = server.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
            Assert.True(await LeaseClaim.TryClaimAsync(db, BlobScrubber.LeaseName, "elsewhere", DateTime.UtcNow, DateTime.UtcNow.AddHours(1), Ct));
        }

        using var busy = await server.Http.PostAsync("/api/v1/fsck", null, Ct);
        await busy.AssertProblemAsync(HttpStatusCode.Conflict, "fsck_running");

        using var reader = server.NewHttp(null);
        using var anonymous = await reader.PostAsync("/api/v1/fsck", null, Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
    }

    private static async Task<(List<FsckProblem> Problems, FsckReport Report)> FsckAsync(TestServer server, bool quarantine)
    {
        var problems = new List<FsckProblem>();
        FsckReport? report = null;
        await foreach (var line in server.Client.RunFsckAsync(quarantine, Ct))
        {
            if (line.Problem is { } problem)
            {
                problems.Add(problem);
            }

            report = line.Report ?? report;
        }

        Assert.NotNull(report);
        Assert.Equal(report.Problems, problems.Count);
        return (problems, report);
    }

    private static async Task PushAsync(TestServer server, string model, params (string Path, byte[] Bytes)[] files)
    {
        using var folder = new ModelFolder();
        foreach (var (path, bytes) in files)
        {
            await File.WriteAllBytesAsync(Path.Combine(folder.Root, path), bytes, Ct);
        }

        await server.Client.PushAsync(folder.Root, "acme", model, new PushOptions(), cancellationToken: Ct);
    }

    private static double Metric(string text, string name) => text.Split('\n')
        .Where(l => l.StartsWith(name + " ", StringComparison.Ordinal) || l.StartsWith(name + "{", StringComparison.Ordinal))
        .Select(l => double.Parse(l[(l.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture))
        .Single();

    private static string Sha(byte[] bytes) => ModelFolder.Sha256(bytes);

    /// <summary>The blob store behind the server's back, as a failing disk or an operator would change it.</summary>
    private abstract class Store
    {
        public abstract Task WriteAsync(string digest, byte[] bytes);

        public abstract Task DeleteAsync(string digest);
    }

    private sealed class FolderStore(string root) : Store
    {
        public override async Task WriteAsync(string digest, byte[] bytes)
        {
            var file = Path.Combine(root, "blobs", "sha256", Digest.Parse(digest).Hex[..2], Digest.Parse(digest).Hex);
            Directory.CreateDirectory(Path.GetDirectoryName(file)!);
            await File.WriteAllBytesAsync(file, bytes, Ct);
        }

        public override Task DeleteAsync(string digest)
        {
            File.Delete(Path.Combine(root, "blobs", "sha256", Digest.Parse(digest).Hex[..2], Digest.Parse(digest).Hex));
            return Task.CompletedTask;
        }
    }

    private sealed class S3Store(string prefix) : Store
    {
        public override async Task WriteAsync(string digest, byte[] bytes)
        {
            using var s3 = TestS3.NewClient();
            using var content = new MemoryStream(bytes);
            await s3.PutObjectAsync(new PutObjectRequest { BucketName = TestS3.Bucket, Key = Key(digest), InputStream = content }, Ct);
        }

        public override async Task DeleteAsync(string digest)
        {
            using var s3 = TestS3.NewClient();
            await s3.DeleteObjectAsync(TestS3.Bucket, Key(digest), Ct);
        }

        private string Key(string digest) => $"{prefix}/blobs/sha256/{Digest.Parse(digest).Hex[..2]}/{Digest.Parse(digest).Hex}";
    }
}
