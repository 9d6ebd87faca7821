using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Berth.Api.Tests;

/// <summary>
/// Run retention: a policy's <c>runsOlderThan</c> makes garbage collection delete (softly) the runs that ended that long
/// ago and that no version names in its lineage; a run that produced a version, a running run, a young run, a deleted
/// run and the runs of a model whose own policy leaves runs alone are kept. The dry run lists exactly what gc deletes.
/// </summary>
public sealed class RunRetentionTests : IAsyncLifetime
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private TestServer _server = null!;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() =>
        // Runs crash after 30 silent days (the longest allowed), so the running run, which beats after every jump of
        // the clock, stays running while the clock moves 31 days.
        _server = await TestServer.StartAsync(services => services.AddSingleton<TimeProvider>(_clock), "--Runs:HeartbeatTimeout", "30.00:00:00");

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    private BerthClient Client => _server.Client;

    private async Task<RunInfo> EndedRunAsync(string model, string name, string status = "finished")
    {
        var run = await Client.CreateRunAsync("acme", model, new CreateRunRequest(Name: name), Ct);
        return await Client.FinishRunAsync("acme", model, run.Id, status, Ct);
    }

    [Fact]
    public async Task GcDeletesOldEndedRunsThatProducedNoVersionAndKeepsEveryOtherRun()
    {
        var unused = await EndedRunAsync("fraud", "unused");
        var failed = await EndedRunAsync("fraud", "failed", "failed");
        var producer = await Client.CreateRunAsync("acme", "fraud", new CreateRunRequest(Name: "producer"), Ct);
        using (var folder = new ModelFolder(("model/weights.bin", 2_000)))
        {
            await Client.UploadRunFilesAsync("acme", "fraud", producer.Id, folder.Root, cancellationToken: Ct);
        }

        await Client.RegisterRunAsync("acme", "fraud", producer.Id, new RegisterRunRequest(Path: "model"), Ct);
        await Client.FinishRunAsync("acme", "fraud", producer.Id, cancellationToken: Ct);
        var running = await Client.CreateRunAsync("acme", "fraud", new CreateRunRequest(Name: "running"), Ct);
        var deleted = await EndedRunAsync("fraud", "deleted");
        using (var response = await _server.Http.DeleteAsync($"/api/v1/models/acme/fraud/runs/{deleted.Id}", Ct))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        var elsewhere = await EndedRunAsync("churn", "elsewhere");

        // The namespace deletes runs after 30 days; churn's own policy replaces it and leaves runs alone.
        var policy = await Client.SetRetentionAsync("acme", null, new SetRetentionRequest(TimeSpan.FromDays(3650), RunsOlderThan: TimeSpan.FromDays(30)), Ct);
        Assert.Equal(TimeSpan.FromDays(30), policy.RunsOlderThan);
        Assert.Equal(TimeSpan.FromDays(30), (await Client.GetRetentionAsync("acme", cancellationToken: Ct)).RunsOlderThan);
        await Client.SetRetentionAsync("acme", "churn", new SetRetentionRequest(TimeSpan.FromDays(3650)), Ct);

        // Young: nothing yet.
        _clock.Advance(TimeSpan.FromDays(29));
        await Client.HeartbeatRunAsync("acme", "fraud", running.Id, Ct);
        Assert.Empty((await Client.PreviewRetentionAsync("acme", cancellationToken: Ct)).Runs ?? []);
        Assert.Equal(0, (await Client.RunGcAsync(dryRun: true, Ct)).RetentionRunsDeleted);

        // A run that ended recently stays while the old ones go.
        _clock.Advance(TimeSpan.FromDays(2));
        var young = await EndedRunAsync("fraud", "young");
        var preview = await Client.PreviewRetentionAsync("acme", cancellationToken: Ct);
        Assert.Equal([unused.Id, failed.Id], preview.Runs!.Select(r => r.Id));
        Assert.Equal(["finished", "failed"], preview.Runs!.Select(r => r.Status));
        Assert.Equal($"acme/fraud/{unused.Id}", preview.Runs![0].Reference);
        Assert.Empty(preview.Versions);

        var dry = await Client.RunGcAsync(dryRun: true, Ct);
        Assert.Equal(2, dry.RetentionRunsDeleted);
        Assert.Equal([$"acme/fraud/{unused.Id}", $"acme/fraud/{failed.Id}"], dry.RetentionRuns);
        Assert.Equal("finished", (await Client.GetRunAsync("acme", "fraud", unused.Id, Ct)).Status);

        var gc = await Client.RunGcAsync(cancellationToken: Ct);
        Assert.Equal(2, gc.RetentionRunsDeleted);
        Assert.Equal([$"acme/fraud/{unused.Id}", $"acme/fraud/{failed.Id}"], gc.RetentionRuns);
        foreach (var gone in new[] { unused, failed })
        {
            var problem = await Assert.ThrowsAsync<BerthProblemException>(() => Client.GetRunAsync("acme", "fraud", gone.Id, Ct));
            Assert.Equal("run_not_found", problem.Code);
        }

        Assert.Equal("finished", (await Client.GetRunAsync("acme", "fraud", producer.Id, Ct)).Status);
        Assert.Equal("running", (await Client.GetRunAsync("acme", "fraud", running.Id, Ct)).Status);
        Assert.Equal("finished", (await Client.GetRunAsync("acme", "fraud", young.Id, Ct)).Status);
        Assert.Equal("finished", (await Client.GetRunAsync("acme", "churn", elsewhere.Id, Ct)).Status);
        Assert.Equal(1, await Client.ListVersionsAsync("acme", "fraud", cancellationToken: Ct).CountAsync(Ct));

        // Audited as run deletions by retention; a second collection finds nothing more.
        var audit = await Client.ListAuditAsync(ns: "acme", cancellationToken: Ct).Where(e => e.Action == "run.delete").ToListAsync(Ct);
        Assert.Equal(3, audit.Count); // the one deleted by hand, and the two by retention
        Assert.Equal(2, audit.Count(e => e.Details?.Contains("retention", StringComparison.Ordinal) == true));
        Assert.Equal(0, (await Client.RunGcAsync(cancellationToken: Ct)).RetentionRunsDeleted);
    }

    [Fact]
    public async Task ANegativeRunAgeIsRefused()
    {
        await Client.CreateRunAsync("acme", "fraud", cancellationToken: Ct);
        using var response = await _server.Http.SendJsonAsync(HttpMethod.Put, "/api/v1/namespaces/acme/retention",
            """{"olderThan": "30.00:00:00", "runsOlderThan": "-1.00:00:00"}""", Ct);
        await response.AssertProblemAsync(HttpStatusCode.BadRequest, "invalid_request");
        var none = await Assert.ThrowsAsync<BerthProblemException>(() => Client.GetRetentionAsync("acme", cancellationToken: Ct));
        Assert.Equal("retention_not_set", none.Code);
    }
}
