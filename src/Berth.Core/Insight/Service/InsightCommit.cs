using Berth.Contracts.Dtos;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Insight.Service;

/// <summary>
/// What committing a version does for insight (called by <c>VersionService.CommitAsync</c>): under its namespace's
/// <c>block</c> policy, reads the files first and answers the dangerous ones (the commit is then refused); then queues
/// the version's reading in the commit's transaction, and offers it to this server's workers once committed.
/// </summary>
public sealed class InsightCommit(RegistryDbContext db, InsightFiles files, InsightQueue queue, TimeProvider clock)
{
    /// <summary>The files that run code when loaded, when the namespace blocks them (empty otherwise: the commit goes on).</summary>
    public async Task<IReadOnlyList<FileInsight>> DangerousFilesAsync(long namespaceId, long versionId, CancellationToken cancellationToken)
    {
        var policy = await db.Namespaces.Where(n => n.Id == namespaceId).Select(n => n.ScanPolicy).SingleAsync(cancellationToken);
        if (policy != ScanPolicies.Block)
        {
            return [];
        }

        // The scan must finish before the version may become ready. Its readings are kept: the worker reuses them.
        var read = await files.ReadAsync(versionId, scan: true, cancellationToken);
        await files.StoreAsync(versionId, read, scanned: true, cancellationToken);
        return read.Where(f => f.Scan?.Verdict == ScanVerdicts.Dangerous).ToList();
    }

    /// <summary>Adds the version's pending reading to the commit's unit of work.</summary>
    public void Queue(long versionId)
    {
        db.VersionInsights.Add(new VersionInsightRecord
        {
            VersionId = versionId,
            State = InsightStates.Pending,
            Analyzer = ModelInspector.Version,
            QueuedAt = clock.GetUtcNow().UtcDateTime,
        });
    }

    /// <summary>After the commit: hands the version to this server's workers (a full queue leaves it to their polling).</summary>
    public void Offer(long versionId) => queue.Offer(versionId);

    /// <summary>The refusal's message and extensions: each dangerous file with its dangerous globals.</summary>
    public static (string Message, IReadOnlyDictionary<string, object?> Extensions) Refusal(string version, IReadOnlyList<FileInsight> dangerous)
    {
        var listed = dangerous.Select(f => (f.Path, Globals: f.Scan!.Globals.Where(g => g.Verdict == ScanVerdicts.Dangerous)
            .Select(g => g.Entry is null ? g.Global : $"{g.Global} (in {g.Entry})").ToList())).ToList();
        var first = listed[0];
        var message = $"{version} was refused: '{first.Path}' runs code when it is loaded ({string.Join(", ", first.Globals.Take(5))})" +
            (listed.Count > 1 ? $", and {listed.Count - 1} more file{(listed.Count > 2 ? "s" : "")} too" : "") +
            ". The namespace's scan policy is block; remove the file, or save the model without pickles (safetensors, ONNX).";
        var extensions = new Dictionary<string, object?>
        {
            ["files"] = listed.Select(f => new Dictionary<string, object?> { ["path"] = f.Path, ["globals"] = f.Globals }).ToList(),
        };
        return (message, extensions);
    }
}
