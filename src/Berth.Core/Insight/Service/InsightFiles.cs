using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Naming;
using Berth.Core.Blobs;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Insight.IO;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Insight.Service;

/// <summary>
/// Reads the files of a version from the blob store with <see cref="ModelInspector"/>, reusing a reading of the same
/// bytes under the same file name (this version's, from a commit under the block policy, or another version's) made by
/// the same <see cref="ModelInspector.Version"/>, and stores one <see cref="VersionFileInsight"/> row per file.
/// </summary>
public sealed class InsightFiles(RegistryDbContext db, IBlobStore store)
{
    /// <summary>The largest reading kept per file (its lists are capped well below this; a safety net).</summary>
    private const int MaxDocument = 512 * 1024;

    /// <summary>Reads (or reuses) every file of the version; with <paramref name="scan"/> false, no pickle verdicts are kept.</summary>
    public async Task<List<FileInsight>> ReadAsync(long versionId, bool scan, CancellationToken cancellationToken)
    {
        var files = await db.VersionFiles.AsNoTracking().Where(f => f.VersionId == versionId).OrderBy(f => f.Path)
            .Select(f => new { f.Path, f.Digest, f.Size }).ToListAsync(cancellationToken);
        var digests = files.Select(f => f.Digest).Distinct().ToList();
        var known = new Dictionary<(string Digest, string Name), VersionFileInsight>();
        foreach (var chunk in digests.Chunk(500))
        {
            var rows = await db.VersionFileInsights.AsNoTracking()
                .Where(r => chunk.Contains(r.Digest) && r.Analyzer == ModelInspector.Version && !r.Failed && (r.Scanned || !scan))
                .ToListAsync(cancellationToken);
            foreach (var row in rows)
            {
                known.TryAdd((row.Digest, row.Name), row);
            }
        }

        var result = new List<FileInsight>(files.Count);
        foreach (var file in files)
        {
            var name = Name(file.Path);
            FileInsight insight;
            if (known.TryGetValue((file.Digest, name), out var row) && Deserialize(row.Document) is { } reused)
            {
                insight = reused with { Path = file.Path, Digest = file.Digest };
            }
            else
            {
                insight = await InspectAsync(file.Path, file.Digest, file.Size, cancellationToken);
            }

            result.Add(scan ? insight : insight with { Scan = null });
        }

        return result;
    }

    private async Task<FileInsight> InspectAsync(string path, string digest, long size, CancellationToken cancellationToken)
    {
        try
        {
            await using var reader = new BlobRangeReader(store, Digest.Parse(digest), size);
            return await ModelInspector.InspectAsync(path, reader, digest, cancellationToken);
        }
        catch (BlobNotFoundException)
        {
            return new FileInsight(path, size, Error: "its stored bytes are missing", Digest: digest);
        }
    }

    /// <summary>Replaces the version's file rows with these readings (in the caller's transaction, if any).</summary>
    public async Task StoreAsync(long versionId, IReadOnlyList<FileInsight> files, bool scanned, CancellationToken cancellationToken)
    {
        await db.VersionFileInsights.Where(r => r.VersionId == versionId).ExecuteDeleteAsync(cancellationToken);
        foreach (var chunk in files.Chunk(500))
        {
            foreach (var file in chunk)
            {
                db.VersionFileInsights.Add(new VersionFileInsight
                {
                    VersionId = versionId,
                    Path = file.Path,
                    Digest = file.Digest ?? "",
                    Name = Name(file.Path),
                    Format = file.Format,
                    Verdict = file.Scan?.Verdict,
                    Failed = file.Error is not null,
                    Scanned = scanned,
                    Analyzer = ModelInspector.Version,
                    Document = Serialize(file),
                });
            }

            await db.SaveChangesAsync(cancellationToken);
        }
    }

    /// <summary>The stored readings of a version's files, in path order.</summary>
    public async Task<List<FileInsight>> LoadAsync(long versionId, CancellationToken cancellationToken) =>
        (await db.VersionFileInsights.AsNoTracking().Where(r => r.VersionId == versionId).OrderBy(r => r.Path)
            .Select(r => r.Document).ToListAsync(cancellationToken))
        .Select(Deserialize).OfType<FileInsight>().ToList();

    public static string Name(string path) => path[(path.LastIndexOf('/') + 1)..];

    private static string Serialize(FileInsight file)
    {
        var json = JsonSerializer.Serialize(file, BerthJsonContext.Default.FileInsight);
        return json.Length <= MaxDocument
            ? json
            : JsonSerializer.Serialize(file with { Properties = null, Inputs = file.Inputs?.Take(8).ToList(), Outputs = file.Outputs?.Take(8).ToList(), Requirements = file.Requirements?.Take(50).ToList() }, BerthJsonContext.Default.FileInsight);
    }

    private static FileInsight? Deserialize(string json)
    {
        try
        {
            return JsonSerializer.Deserialize(json, BerthJsonContext.Default.FileInsight);
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
