namespace Berth.Contracts.Dtos;

/// <summary>The verdicts of the pickle scanner, from best to worst.</summary>
public static class ScanVerdicts
{
    /// <summary>Only allow-listed globals (tensor rebuilding, numpy arrays, collections, well-known estimator classes).</summary>
    public const string Safe = "safe";

    /// <summary>Globals outside the allow list, or a stream the scanner could not read to its end.</summary>
    public const string Suspicious = "suspicious";

    /// <summary>A global that runs code or touches the system (os.system, builtins.eval, subprocess.*, …).</summary>
    public const string Dangerous = "dangerous";

    /// <summary>0 for safe, 1 for suspicious, 2 for dangerous (also the exit status of <c>berth scan</c>).</summary>
    public static int Rank(string? verdict) => verdict switch
    {
        Dangerous => 2,
        Suspicious => 1,
        _ => 0,
    };

    public static string Worst(string? a, string? b) => Rank(a) >= Rank(b) ? a ?? b ?? Safe : b!;
}

/// <summary>Where the extraction of a version's insight is.</summary>
public static class InsightStates
{
    /// <summary>Queued or running.</summary>
    public const string Pending = "pending";

    /// <summary>Every file was read.</summary>
    public const string Done = "done";

    /// <summary>At least one file of a known format could not be read (truncated, corrupt); the reason names it.</summary>
    public const string Failed = "failed";
}

/// <summary>A namespace's pickle-scanning policy.</summary>
public static class ScanPolicies
{
    /// <summary>Nothing is scanned, recorded or enforced.</summary>
    public const string Off = "off";

    /// <summary>Verdicts are recorded, shown, and a dangerous version emits <c>version.flagged</c> (the default).</summary>
    public const string Warn = "warn";

    /// <summary>A version with a dangerous file can never become ready: its commit is refused (<c>unsafe_model</c>).</summary>
    public const string Block = "block";

    public static IReadOnlyList<string> All { get; } = [Off, Warn, Block];
}

/// <summary>
/// An input or output of a model's signature: its name, element type (<c>float32</c>, <c>int64</c>, …) and shape, whose
/// dimensions are numbers or symbolic names (<c>batch</c>); a dimension left open is <c>?</c>.
/// </summary>
public sealed record TensorSignature(string Name, string? Type = null, IReadOnlyList<string>? Shape = null);

/// <summary>One global a pickle stream imports or calls (<c>module.name</c>), its verdict, and the stream it is in when that is an archive's entry.</summary>
public sealed record ScanFinding(string Global, string Verdict, string? Entry = null);

/// <summary>
/// What the pickle scanner found in one file: the worst verdict over its pickle streams, the globals they reference (at
/// most 200, dangerous first), how many streams it read, and why a stream could not be read to its end, if one could not.
/// </summary>
public sealed record FileScan(string Verdict, IReadOnlyList<ScanFinding> Globals, int Streams, string? Error = null);

/// <summary>
/// What Berth read from one file. <c>Format</c> is what its content is (null: no format Berth reads), <c>Dtypes</c> the
/// parameters per element type, <c>Properties</c> format-specific facts (ONNX opset and producer, GGUF keys, MLflow
/// flavors, …), <c>Scan</c> the pickle scan (null: no pickle stream in it), <c>Error</c> why a file of a known format could
/// not be read (truncated, corrupt).
/// </summary>
public sealed record FileInsight(
    string Path,
    long Size,
    string? Format = null,
    string? Framework = null,
    long? Parameters = null,
    IReadOnlyDictionary<string, long>? Dtypes = null,
    string? Quantization = null,
    IReadOnlyList<TensorSignature>? Inputs = null,
    IReadOnlyList<TensorSignature>? Outputs = null,
    IReadOnlyList<string>? Requirements = null,
    IReadOnlyDictionary<string, string>? Properties = null,
    FileScan? Scan = null,
    string? Error = null,
    string? Digest = null);

/// <summary>
/// A version's metadata, from its files: the framework and format of its main weights, their parameter count, precision
/// (the element type of most parameters, or <c>mixed</c>), quantization (GGUF), the signature, and the requirements.
/// </summary>
public sealed record InsightMetadata(
    string? Framework = null,
    string? Format = null,
    long? Parameters = null,
    string? Precision = null,
    string? Quantization = null,
    IReadOnlyList<TensorSignature>? Inputs = null,
    IReadOnlyList<TensorSignature>? Outputs = null,
    IReadOnlyList<string>? Requirements = null);

/// <summary>The pickle scan of a version: the worst verdict, how many files are dangerous or suspicious, how many were scanned.</summary>
public sealed record ScanSummary(string Verdict, int Dangerous, int Suspicious, int Scanned);

/// <summary>
/// What Berth read inside a version: the state of the extraction (<see cref="InsightStates"/>, with the reason it failed),
/// the metadata, the scan (null when the namespace's scan policy is off) and, when asked for, each file's details.
/// </summary>
public sealed record VersionInsight(
    string State,
    string? Reason = null,
    DateTimeOffset? UpdatedAt = null,
    InsightMetadata? Metadata = null,
    ScanSummary? Scan = null,
    IReadOnlyList<FileInsight>? Files = null);

/// <summary>What <c>berth scan ./folder --json</c> prints: the same reading of local files, offline.</summary>
public sealed record LocalScanReport(string Path, string Verdict, InsightMetadata Metadata, ScanSummary Scan, IReadOnlyList<FileInsight> Files);

/// <summary>A namespace's scan policy (<see cref="ScanPolicies"/>).</summary>
public sealed record ScanPolicyInfo(string Namespace, string Policy);

/// <summary>Sets a namespace's scan policy: off, warn or block.</summary>
public sealed record SetScanPolicyRequest(string Policy);

/// <summary>Queues the insight of ready versions to be read again (server administrators): all, a namespace's, a model's or one version.</summary>
public sealed record RecomputeInsightRequest(string? Namespace = null, string? Model = null, string? Version = null);

/// <summary>How many versions were queued.</summary>
public sealed record RecomputeInsightResponse(int Queued);
