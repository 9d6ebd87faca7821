using Berth.Contracts.Dtos;

namespace Berth.Core.Insight;

/// <summary>
/// Sums up a version's files: its main weights are the largest file of a weight format; their framework, format,
/// parameters (over every file of that format: shards), precision and quantization are the version's; the signature comes
/// from the main file or else from the files that describe the model (MLmodel, .mlem, SavedModel, Keras); requirements
/// from requirements files and MLEM. The scan's verdict is the worst file's.
/// </summary>
public static class InsightSummarizer
{
    private static readonly string[] WeightFormats =
    [
        "gguf", "safetensors", "onnx", "pytorch", "torchscript", "pytorch-legacy", "savedmodel", "keras", "hdf5", "joblib", "pickle",
        "npz", "npy", "zip",
    ];

    public static InsightMetadata Metadata(IReadOnlyList<FileInsight> files)
    {
        var weights = files.Where(f => f.Format is { } format && WeightFormats.Contains(format)).ToList();
        var main = weights.OrderByDescending(f => f.Size).ThenBy(f => f.Path, StringComparer.Ordinal).FirstOrDefault();
        var describing = files.Where(f => f.Format is "mlflow" or "mlem" or "hf-config" or "keras-config" or "savedmodel" or "keras").ToList();
        var shards = main is null ? [] : weights.Where(f => f.Format == main.Format).ToList();

        long? parameters = shards.Any(f => f.Parameters is not null) ? shards.Sum(f => f.Parameters ?? 0) : null;
        var dtypes = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var (dtype, count) in shards.SelectMany(f => f.Dtypes ?? new Dictionary<string, long>()))
        {
            dtypes[dtype] = dtypes.GetValueOrDefault(dtype) + count;
        }

        string? precision = null;
        var total = dtypes.Values.Sum();
        if (total > 0)
        {
            var top = dtypes.OrderByDescending(d => d.Value).ThenBy(d => d.Key, StringComparer.Ordinal).First();
            precision = top.Value * 2 > total ? top.Key : "mixed";
        }

        var signature = new[] { main }.Concat(describing).FirstOrDefault(f => f?.Inputs is { Count: > 0 } || f?.Outputs is { Count: > 0 });
        var requirements = files.SelectMany(f => f.Requirements ?? []).Distinct(StringComparer.Ordinal).Take(InsightBuilder.MaxRequirements).ToList();
        return new InsightMetadata(
            main?.Framework ?? describing.Select(f => f.Framework).FirstOrDefault(f => f is not null),
            main?.Format ?? describing.Select(f => f.Format).FirstOrDefault(),
            parameters,
            precision,
            main?.Quantization ?? files.Select(f => f.Quantization).FirstOrDefault(q => q is not null),
            signature?.Inputs,
            signature?.Outputs,
            requirements.Count == 0 ? null : requirements);
    }

    public static ScanSummary Scan(IReadOnlyList<FileInsight> files)
    {
        var scanned = files.Where(f => f.Scan is not null).ToList();
        var verdict = ScanVerdicts.Safe;
        foreach (var file in scanned)
        {
            verdict = ScanVerdicts.Worst(verdict, file.Scan!.Verdict);
        }

        return new ScanSummary(
            verdict,
            scanned.Count(f => f.Scan!.Verdict == ScanVerdicts.Dangerous),
            scanned.Count(f => f.Scan!.Verdict == ScanVerdicts.Suspicious),
            scanned.Count);
    }

    /// <summary>Why the extraction failed (the files that could not be read), or null when every file was read.</summary>
    public static string? FailureReason(IReadOnlyList<FileInsight> files)
    {
        var failed = files.Where(f => f.Error is not null).OrderBy(f => f.Path, StringComparer.Ordinal).ToList();
        if (failed.Count == 0)
        {
            return null;
        }

        var first = $"{failed[0].Path}: {failed[0].Error}";
        return failed.Count == 1 ? first : $"{first} (and {failed.Count - 1} more file{(failed.Count == 2 ? "" : "s")})";
    }
}
