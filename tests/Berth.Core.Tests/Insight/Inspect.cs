using Berth.Contracts.Dtos;
using Berth.Core.Insight;
using Berth.Core.Insight.IO;
using Berth.Testing.Insight;

namespace Berth.Core.Tests.Insight;

/// <summary>Runs the inspector on files and bytes the way the server and <c>berth scan</c> do.</summary>
internal static class Inspect
{
    public static async Task<FileInsight> CorpusAsync(string relative)
    {
        var path = await ModelCorpus.FileAsync(relative);
        return await FileAsync(path, relative);
    }

    public static async Task<FileInsight> FileAsync(string path, string? name = null)
    {
        await using var reader = FileRangeReader.Open(path);
        return await ModelInspector.InspectAsync(name ?? Path.GetFileName(path), reader, digest: null, TestContext.Current.CancellationToken);
    }

    public static async Task<FileInsight> BytesAsync(string name, byte[] bytes)
    {
        await using var reader = new MemoryRangeReader(bytes);
        return await ModelInspector.InspectAsync(name, reader, digest: null, TestContext.Current.CancellationToken);
    }

    public static void Dangerous(FileInsight insight, string global, string? entry = null)
    {
        Assert.NotNull(insight.Scan);
        Assert.Equal(ScanVerdicts.Dangerous, insight.Scan.Verdict);
        Assert.Contains(insight.Scan.Globals, g => g.Global == global && g.Verdict == ScanVerdicts.Dangerous && (entry is null || g.Entry == entry));
    }

    public static void Safe(FileInsight insight)
    {
        Assert.Null(insight.Error);
        Assert.NotNull(insight.Scan);
        Assert.True(insight.Scan.Verdict == ScanVerdicts.Safe,
            $"{insight.Path} is {insight.Scan.Verdict}: {string.Join(", ", insight.Scan.Globals.Where(g => g.Verdict != ScanVerdicts.Safe).Select(g => $"{g.Global} ({g.Verdict})"))} {insight.Scan.Error}");
    }
}
