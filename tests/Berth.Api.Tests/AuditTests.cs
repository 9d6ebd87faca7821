using System.Net;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>The audit log: one entry per mutation, a hash chain that detects edits and deletions, export.</summary>
public sealed class AuditTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task EveryMutationAppendsAnEntrySayingWhoDidWhatToWhatFromWhere()
    {
        await using var server = await TestServer.StartAsync();
        var admin = server.Client;
        var start = await admin.ListAuditAsync(cancellationToken: Ct).CountAsync(Ct);

        await server.CreateNamespaceAsync("acme");
        using var alice = await server.AddUserAsync("alice", "acme", Roles.Writer);
        await admin.SetStageRuleAsync("acme", null, "production", new SetStageRuleRequest(Exclusive: true), Ct);
        using var folder = new ModelFolder(("w.bin", 64));
        await alice.Client.PushAsync(folder.Root, "acme", "fraud", new PushOptions(), cancellationToken: Ct);
        var reference = ModelReference.Parse("acme/fraud:1");
        await alice.Client.UpdateVersionAsync(reference, new UpdateVersionRequest(SetTags: new Dictionary<string, string> { ["validated"] = "true" }), cancellationToken: Ct);
        await alice.Client.ChangeStageAsync(reference, "production", "ship it", cancellationToken: Ct);
        await alice.Client.SetAliasAsync("acme", "fraud", "champion", "1", cancellationToken: Ct);
        await admin.DeleteVersionAsync(reference, cancellationToken: Ct);

        var entries = (await admin.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct)).Skip(start).ToList();
        Assert.Equal(
            [
                ("namespace.create", "admin"), ("user.create", "admin"), ("token.create", "admin"), ("member.add", "admin"),
                ("policy.set", "admin"), ("model.create", "alice"), ("version.create", "alice"), ("version.commit", "alice"), ("version.update", "alice"),
                ("stage.change", "alice"), ("alias.set", "alice"), ("alias.remove", "admin"), ("version.delete", "admin"),
            ],
            entries.Select(e => (e.Action, e.Actor)));
        Assert.All(entries, e => Assert.Equal("127.0.0.1", e.ClientAddress));
        Assert.All(entries, e => Assert.False(string.IsNullOrEmpty(e.RequestId)));
        Assert.Equal(entries.Select((_, i) => entries[0].Id + i), entries.Select(e => e.Id));

        var stage = entries.Single(e => e.Action == "stage.change");
        Assert.Equal(("acme", "acme/fraud:1"), (stage.Namespace, stage.Target));
        using var details = JsonDocument.Parse(stage.Details!);
        Assert.Equal(JsonValueKind.Null, details.RootElement.GetProperty("from").ValueKind);
        Assert.Equal("production", details.RootElement.GetProperty("to").GetString());
        Assert.Equal("ship it", details.RootElement.GetProperty("comment").GetString());
        Assert.Contains("\"admin\":\"admin\"", entries[0].Details, StringComparison.Ordinal);
        var token = entries.Single(e => e.Action == "token.create");
        Assert.Contains("of alice", token.Target, StringComparison.Ordinal);
        Assert.DoesNotContain(alice.Token, token.Details, StringComparison.Ordinal);

        Assert.Equal(["acme"], (await admin.ListAuditAsync(ns: "acme", cancellationToken: Ct).ToListAsync(Ct)).Select(e => e.Namespace).Distinct());
    }

    [Fact]
    public async Task VerifyDetectsAnEditedRowAndNamesIt()
    {
        await using var server = await TestServer.StartAsync();
        var total = await MakeHistoryAsync(server);
        var clean = await server.Client.VerifyAuditAsync(Ct);
        Assert.Equal((true, total, (long?)null), (clean.Valid, clean.Entries, clean.FirstBrokenId));

        var victim = total / 2;
        var original = await ScalarAsync(server, $"SELECT target FROM audit_log WHERE id = {victim}");
        await ExecuteAsync(server, $"UPDATE audit_log SET target = 'someone else' WHERE id = {victim}");
        var edited = await server.Client.VerifyAuditAsync(Ct);
        Assert.False(edited.Valid);
        Assert.Equal(victim, edited.FirstBrokenId);
        Assert.Contains($"entry {victim} was changed", edited.Problem, StringComparison.Ordinal);

        await ExecuteAsync(server, $"UPDATE audit_log SET target = '{original}' WHERE id = {victim}");
        Assert.True((await server.Client.VerifyAuditAsync(Ct)).Valid);

        // A hash that is simply wrong is found on the entry itself.
        await ExecuteAsync(server, $"UPDATE audit_log SET hash = '{new string('a', 64)}' WHERE id = {victim}");
        var bogus = await server.Client.VerifyAuditAsync(Ct);
        Assert.Equal(victim, bogus.FirstBrokenId);
        Assert.Contains($"entry {victim} was changed", bogus.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnEditedEntryWhoseOwnHashWasRecomputedIsFoundByTheNextEntrysLink()
    {
        // The attack of someone with write access to the database: change an entry and give it the hash
        // its new content has. Its own hash checks out; only the next entry's link to it can reveal it.
        await using var server = await TestServer.StartAsync();
        var total = await MakeHistoryAsync(server);
        var victim = total / 2;
        await RewriteAsync(server, victim, "someone else");

        var verified = await server.Client.VerifyAuditAsync(Ct);
        Assert.False(verified.Valid);
        Assert.Equal(victim + 1, verified.FirstBrokenId);
        Assert.Contains($"entry {victim + 1} does not link to entry {victim}", verified.Problem, StringComparison.Ordinal);

        // The last entry has no next entry: the chain's head, which records the last hash, reveals it.
        await using var other = await TestServer.StartAsync();
        var last = await MakeHistoryAsync(other);
        await RewriteAsync(other, last, "someone else");
        var tail = await other.Client.VerifyAuditAsync(Ct);
        Assert.False(tail.Valid);
        Assert.Equal(last, tail.FirstBrokenId);
        Assert.Contains("does not match its last entry", tail.Problem, StringComparison.Ordinal);
    }

    /// <summary>Changes an entry's target and stores the hash of its new content, as a forger would.</summary>
    private static async Task RewriteAsync(TestServer server, long id, string target)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var entry = await db.AuditLog.AsNoTracking().SingleAsync(a => a.Id == id, Ct);
        entry.Target = target;
        var hash = Berth.Core.Audit.AuditHash.Compute(entry);
        Assert.Equal(1, await db.AuditLog.Where(a => a.Id == id).ExecuteUpdateAsync(s => s.SetProperty(a => a.Target, target).SetProperty(a => a.Hash, hash), Ct));
    }

    [Fact]
    public async Task VerifyDetectsDeletedRowsInTheMiddleAndAtTheEnd()
    {
        await using var server = await TestServer.StartAsync();
        var total = await MakeHistoryAsync(server);

        await ExecuteAsync(server, $"DELETE FROM audit_log WHERE id = {total}");
        var tail = await server.Client.VerifyAuditAsync(Ct);
        Assert.False(tail.Valid);
        Assert.Equal(total, tail.FirstBrokenId);
        Assert.Contains("missing from the end", tail.Problem, StringComparison.Ordinal);

        await ExecuteAsync(server, "DELETE FROM audit_log WHERE id = 3");
        var middle = await server.Client.VerifyAuditAsync(Ct);
        Assert.False(middle.Valid);
        Assert.Equal(3, middle.FirstBrokenId);
        Assert.Contains("entry 3 is missing", middle.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConcurrentWritersNeverForkTheChain()
    {
        await using var server = await TestServer.StartAsync();
        await server.CreateNamespaceAsync("busy");
        const int Writers = 8;
        const int Changes = 10;
        for (var i = 0; i < Writers; i++)
        {
            using var folder = new ModelFolder(($"w{i}.bin", 16 + i));
            await server.Client.PushAsync(folder.Root, "busy", "m" + i, new PushOptions(), cancellationToken: Ct);
        }

        var before = (await server.Client.VerifyAuditAsync(Ct)).Entries;
        await Task.WhenAll(Enumerable.Range(0, Writers).Select(async w =>
        {
            for (var c = 0; c < Changes; c++)
            {
                await server.Client.UpdateVersionAsync(
                    ModelReference.Parse($"busy/m{w}:1"),
                    new UpdateVersionRequest(SetTags: new Dictionary<string, string> { ["round"] = c.ToString(System.Globalization.CultureInfo.InvariantCulture) }),
                    cancellationToken: Ct);
            }
        }));

        var after = await server.Client.VerifyAuditAsync(Ct);
        Assert.True(after.Valid, after.Problem);
        Assert.Equal(before + (Writers * Changes), after.Entries);
        var ids = await server.Client.ListAuditAsync(cancellationToken: Ct).Select(e => e.Id).ToListAsync(Ct);
        Assert.Equal(Enumerable.Range(1, ids.Count).Select(i => (long)i), ids);
    }

    [Fact]
    public async Task ExportWritesJsonLinesForATimeRange()
    {
        await using var server = await TestServer.StartAsync();
        var total = await MakeHistoryAsync(server);
        var all = await server.Client.ListAuditAsync(cancellationToken: Ct).ToListAsync(Ct);
        Assert.Equal(total, all.Count);

        using var response = await server.Http.GetAsync("/api/v1/audit/export", Ct);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        var lines = (await response.Content.ReadAsStringAsync(Ct)).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var parsed = lines.Select(l => JsonSerializer.Deserialize(l, BerthJsonContext.Default.AuditEntryInfo)!).ToList();
        Assert.Equal(all.Select(e => (e.Id, e.Hash)), parsed.Select(e => (e.Id, e.Hash)));

        var since = all[5].At;
        using var stream = new MemoryStream();
        await server.Client.ExportAuditAsync(stream, since: since, cancellationToken: Ct);
        var recent = System.Text.Encoding.UTF8.GetString(stream.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(all.Count(e => e.At >= since), recent.Length);
        Assert.True(recent.Length < all.Count);

        using var badSince = await server.Http.GetAsync("/api/v1/audit/export?since=last-tuesday", Ct);
        Assert.Equal(HttpStatusCode.BadRequest, badSince.StatusCode);
    }

    /// <summary>Some changes to audit; returns the number of entries.</summary>
    private static async Task<long> MakeHistoryAsync(TestServer server)
    {
        await server.CreateNamespaceAsync("hist");
        for (var i = 0; i < 4; i++)
        {
            using var folder = new ModelFolder(("w.bin", 20 + i));
            await server.Client.PushAsync(folder.Root, "hist", "m", new PushOptions(), cancellationToken: Ct);
            await server.Client.SetAliasAsync("hist", "m", "latest-good", (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture), cancellationToken: Ct);
        }

        return await server.Client.ListAuditAsync(cancellationToken: Ct).CountAsync(Ct);
    }

    private static async Task ExecuteAsync(TestServer server, string sql)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        Assert.Equal(1, await db.Database.ExecuteSqlRawAsync(sql, Ct));
    }

    private static async Task<string> ScalarAsync(TestServer server, string sql)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        return await db.Database.SqlQueryRaw<string>(sql.Replace("SELECT target", "SELECT target AS \"Value\"", StringComparison.Ordinal)).SingleAsync(Ct);
    }
}
