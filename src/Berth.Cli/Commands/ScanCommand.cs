using System.Collections.Concurrent;
using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Core.Insight;
using Berth.Core.Insight.IO;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth scan ./model</c>: reads the model files of a folder (or one file) as the server does on every push — their
/// metadata, and every pickle stream scanned at the opcode level — offline, before a push. Exits 0 when everything is
/// safe, 1 when something is suspicious, 2 when something is dangerous (so a usage error, also 2, fails closed too).
/// </summary>
internal static class ScanCommand
{
    public static Command Create(CliApp app)
    {
        var source = new Argument<string>("path") { Description = "The model folder (or a file) to scan; the same files berth push would upload." };
        var files = new Option<bool>("--files", "-f") { Description = "List every file, not only those with findings or errors." };
        var command = new Command("scan", "Read a local model like the server does (framework, parameters, signature) and scan its pickles for code execution. Offline; exit 0 safe, 1 suspicious, 2 dangerous.")
        {
            source, files,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var path = parse.GetValue(source)!;
            if (!File.Exists(path) && !Directory.Exists(path))
            {
                throw new UsageException($"'{path}' does not exist: give the model folder (or file) to scan.");
            }

            var report = await ScanAsync(path, cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(report, CliJson.Context.LocalScanReport);
            }
            else
            {
                Write(context.Output, report, parse.GetValue(files));
            }

            return ScanVerdicts.Rank(report.Verdict);
        });
        return command;
    }

    internal static async Task<LocalScanReport> ScanAsync(string path, CancellationToken cancellationToken)
    {
        var local = LocalTree.Scan(path);
        var results = new ConcurrentBag<FileInsight>();
        await Parallel.ForEachAsync(local, new ParallelOptions { MaxDegreeOfParallelism = Math.Min(4, Environment.ProcessorCount), CancellationToken = cancellationToken },
            async (file, ct) =>
            {
                FileInsight insight;
                try
                {
                    await using var reader = FileRangeReader.Open(file.FullPath);
                    insight = await ModelInspector.InspectAsync(file.Path, reader, digest: null, ct);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    insight = new FileInsight(file.Path, file.Size, Error: "cannot be read: " + e.Message);
                }

                results.Add(insight);
            });
        var list = results.OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        var scan = InsightSummarizer.Scan(list);
        return new LocalScanReport(Path.GetFullPath(path), scan.Verdict, InsightSummarizer.Metadata(list), scan, list);
    }

    private static void Write(Output output, LocalScanReport report, bool allFiles)
    {
        output.Title($"{report.Path}: {report.Verdict}");
        output.Fields([("scan", InsightText.Scan(report.Scan)), .. InsightText.MetadataFields(report.Metadata)], indent: 2);
        var shown = allFiles ? report.Files : report.Files.Where(f => f.Error is not null || f.Scan is { Verdict: not ScanVerdicts.Safe }).ToList();
        if (shown.Count > 0)
        {
            output.Line(allFiles ? "files:" : "files with findings or errors:");
            InsightText.WriteFiles(output, shown, indent: 2);
        }

        if (report.Verdict == ScanVerdicts.Dangerous)
        {
            Output.Warning("a dangerous file runs code when it is loaded (pickle.load, torch.load, joblib.load): do not load it, and do not push it.");
        }
    }
}
