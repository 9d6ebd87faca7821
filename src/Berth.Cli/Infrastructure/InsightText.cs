using System.Globalization;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Infrastructure;

/// <summary>How <c>berth scan</c> and <c>berth show</c> print what Berth read inside a model.</summary>
internal static class InsightText
{
    public static string Parameters(long parameters) => parameters switch
    {
        >= 1_000_000_000 => $"{(parameters / 1e9).ToString("0.##", CultureInfo.InvariantCulture)}B ({parameters.ToString("N0", CultureInfo.InvariantCulture)})",
        >= 1_000_000 => $"{(parameters / 1e6).ToString("0.##", CultureInfo.InvariantCulture)}M ({parameters.ToString("N0", CultureInfo.InvariantCulture)})",
        _ => parameters.ToString("N0", CultureInfo.InvariantCulture),
    };

    public static string Signature(IReadOnlyList<TensorSignature>? tensors) =>
        tensors is not { Count: > 0 } ? "-" : string.Join(", ", tensors.Take(8).Select(t =>
            $"{t.Name}{(t.Type is null ? "" : ": " + t.Type)}{(t.Shape is null ? "" : "[" + string.Join(", ", t.Shape) + "]")}")) + (tensors.Count > 8 ? $", … ({tensors.Count})" : "");

    public static IEnumerable<(string Key, string? Value)> MetadataFields(InsightMetadata? m) =>
    [
        ("framework", m?.Framework),
        ("format", m?.Format),
        ("parameters", m?.Parameters is { } p ? Parameters(p) : null),
        ("precision", m?.Precision),
        ("quantization", m?.Quantization),
        ("inputs", m?.Inputs is { Count: > 0 } ? Signature(m.Inputs) : null),
        ("outputs", m?.Outputs is { Count: > 0 } ? Signature(m.Outputs) : null),
        ("requirements", m?.Requirements is { Count: > 0 } r ? string.Join(", ", r.Take(12)) + (r.Count > 12 ? $", … ({r.Count})" : "") : null),
    ];

    public static string Scan(ScanSummary scan) =>
        scan.Scanned == 0 ? "no pickles"
        : scan.Verdict + (scan.Dangerous + scan.Suspicious == 0 ? "" : $" ({TextFormat.Count(scan.Dangerous, "dangerous file")}, {scan.Suspicious} suspicious)") +
          $" — {TextFormat.Count(scan.Scanned, "file")} with pickles scanned";

    /// <summary>The globals of a file that are not safe, worst first: <c>posix.system (dangerous, in archive/data.pkl)</c>.</summary>
    public static string Findings(FileScan? scan, int max = 4)
    {
        if (scan is null)
        {
            return "";
        }

        var bad = scan.Globals.Where(g => g.Verdict != ScanVerdicts.Safe).ToList();
        var text = string.Join(", ", bad.Take(max).Select(g => g.Global + (g.Entry is null ? "" : $" in {g.Entry}")));
        return bad.Count > max ? $"{text}, … ({bad.Count})" : text;
    }

    public static void WriteFiles(Output output, IReadOnlyList<FileInsight> files, int indent)
    {
        output.Table(["PATH", "FORMAT", "PARAMETERS", "SCAN", "FINDINGS"],
            files.Select(f => (IReadOnlyList<string>)
            [
                f.Path,
                f.Format ?? "-",
                f.Parameters is { } p ? Parameters(p) : "-",
                f.Scan?.Verdict ?? "-",
                f.Error is null ? Findings(f.Scan) : Join(Findings(f.Scan), "unreadable: " + f.Error),
            ]),
            indent);
    }

    private static string Join(string a, string b) => a.Length == 0 ? b : $"{a}; {b}";
}
