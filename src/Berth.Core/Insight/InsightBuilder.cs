using Berth.Contracts.Dtos;
using Berth.Core.Insight.Pickle;

namespace Berth.Core.Insight;

/// <summary>What the readers of one file fill in; <see cref="Build"/> makes the wire record.</summary>
public sealed class InsightBuilder(string path, long size)
{
    public const int MaxFindings = 200;
    public const int MaxProperties = 100;
    public const int MaxPropertyLength = 1024;
    public const int MaxSignature = 64;
    public const int MaxRequirements = 500;

    private readonly Dictionary<(string Global, string? Entry), string> _findings = [];
    private string? _scanVerdict;
    private string? _scanError;
    private int _streams;

    public string Path { get; } = path;
    public long Size { get; } = size;
    public string? Format { get; set; }
    public string? Framework { get; set; }
    public long? Parameters { get; set; }
    public Dictionary<string, long> Dtypes { get; } = new(StringComparer.Ordinal);
    public string? Quantization { get; set; }
    public List<TensorSignature>? Inputs { get; set; }
    public List<TensorSignature>? Outputs { get; set; }
    public List<string>? Requirements { get; set; }
    public SortedDictionary<string, string> Properties { get; } = new(StringComparer.Ordinal);
    public string? Error { get; set; }

    /// <summary>Whether a pickle stream (or anything else the scanner judges) was found.</summary>
    public bool Scanned => _scanVerdict is not null;

    public void Property(string key, string? value)
    {
        if (value is null || (Properties.Count >= MaxProperties && !Properties.ContainsKey(key)))
        {
            return;
        }

        Properties[key] = value.Length <= MaxPropertyLength ? value : value[..MaxPropertyLength] + "…";
    }

    public void AddDtype(string dtype, long count)
    {
        Dtypes[dtype] = Dtypes.GetValueOrDefault(dtype) + count;
        Parameters = (Parameters ?? 0) + count;
    }

    /// <summary>Adds a pickle stream's scan; <paramref name="entry"/> names it inside an archive.</summary>
    public void AddScan(PickleScanResult result, string? entry)
    {
        _streams += result.Streams;
        foreach (var (global, verdict) in result.Globals)
        {
            _findings.TryAdd((global, entry), verdict);
        }

        _scanVerdict = ScanVerdicts.Worst(_scanVerdict, result.Verdict);
        if (result.Error is { } error)
        {
            // A pickle that cannot be read to its end is suspicious, and its extraction failed.
            _scanError ??= entry is null ? error : $"{entry}: {error}";
            Error ??= _scanError;
        }
    }

    /// <summary>Adds a finding that is not a pickle's (a Keras Lambda layer, a compressed stream Berth cannot open).</summary>
    public void AddFinding(string global, string verdict, string? entry, string? error = null)
    {
        _findings.TryAdd((global, entry), verdict);
        _scanVerdict = ScanVerdicts.Worst(_scanVerdict, verdict);
        if (error is not null)
        {
            _scanError ??= entry is null ? error : $"{entry}: {error}";
        }
    }

    /// <summary>A stream that should be a pickle but could not be opened or read at all: suspicious.</summary>
    public void AddUnreadable(string? entry, string error)
    {
        _scanVerdict = ScanVerdicts.Worst(_scanVerdict, ScanVerdicts.Suspicious);
        _scanError ??= entry is null ? error : $"{entry}: {error}";
    }

    public FileInsight Build(string? digest = null)
    {
        FileScan? scan = _scanVerdict is null ? null : new FileScan(
            _scanVerdict,
            _findings.OrderByDescending(f => ScanVerdicts.Rank(f.Value)).ThenBy(f => f.Key.Entry, StringComparer.Ordinal).ThenBy(f => f.Key.Global, StringComparer.Ordinal)
                .Take(MaxFindings).Select(f => new ScanFinding(f.Key.Global, f.Value, f.Key.Entry)).ToList(),
            _streams,
            _scanError);
        return new FileInsight(
            Path,
            Size,
            Format,
            Framework,
            Parameters,
            Dtypes.Count == 0 ? null : new SortedDictionary<string, long>(Dtypes, StringComparer.Ordinal),
            Quantization,
            Inputs,
            Outputs,
            Requirements,
            Properties.Count == 0 ? null : new SortedDictionary<string, string>(Properties, StringComparer.Ordinal),
            scan,
            Error,
            digest);
    }
}
