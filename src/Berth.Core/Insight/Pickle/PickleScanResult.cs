using Berth.Contracts.Dtos;

namespace Berth.Core.Insight.Pickle;

/// <summary>What <see cref="PickleScanner"/> found in one stream of bytes (which may hold several pickles).</summary>
public sealed class PickleScanResult
{
    private readonly Dictionary<string, string> _verdicts = new(StringComparer.Ordinal);
    private readonly List<string> _order = [];

    /// <summary>The globals referenced, in order of first appearance, with their verdicts.</summary>
    public IReadOnlyList<(string Global, string Verdict)> Globals => _order.Select(g => (g, _verdicts[g])).ToList();

    public int GlobalCount => _order.Count;

    /// <summary>The worst verdict: of the globals, and suspicious when a stream could not be read to its end.</summary>
    public string Verdict
    {
        get
        {
            var verdict = Error is null ? ScanVerdicts.Safe : ScanVerdicts.Suspicious;
            foreach (var v in _verdicts.Values)
            {
                verdict = ScanVerdicts.Worst(verdict, v);
            }

            return verdict;
        }
    }

    /// <summary>Why the scan stopped before the end of a pickle (truncated, corrupt, past a limit); null when it read every stream.</summary>
    public string? Error { get; internal set; }

    /// <summary>How many pickle streams were read to their STOP (nested ones included).</summary>
    public int Streams { get; internal set; }

    /// <summary>Whether the bytes began with the PROTO opcode (a pickle of protocol 2 or later, so certainly meant as one).</summary>
    public bool StartsWithProto { get; internal set; }

    /// <summary>The file is a PyTorch checkpoint of the legacy (non-zip) format: its storages follow the pickles.</summary>
    public bool LegacyTorch { get; internal set; }

    /// <summary>The pickle holds joblib's numpy array wrappers (their bytes are inline, and were skipped).</summary>
    public bool Joblib { get; internal set; }

    /// <summary>PyTorch storages by key: element type and element count.</summary>
    public Dictionary<string, (string Dtype, long Count)> Storages { get; } = new(StringComparer.Ordinal);

    /// <summary>How many tensors the pickle rebuilds.</summary>
    public long Tensors { get; internal set; }

    /// <summary>How many bytes were consumed.</summary>
    public long BytesScanned { get; internal set; }

    /// <summary>
    /// Whether this is a pickle at all: a stream was read to its STOP, or it named a global that Python could import before
    /// it failed. Bytes that fail before either cannot do anything when unpickled (every call needs such a global first),
    /// so they are data, not a pickle, unless their name says otherwise.
    /// </summary>
    public bool IsPickle => Streams > 0 || _importable;

    private bool _importable;

    internal void Record(string module, string name)
    {
        var full = module + "." + name;
        if (!_verdicts.ContainsKey(full))
        {
            if (_order.Count >= PickleScanner.MaxDistinctGlobals)
            {
                throw new InsightFormatException($"the pickle references more than {PickleScanner.MaxDistinctGlobals} distinct globals");
            }

            _verdicts[full] = PickleRules.Verdict(module, name);
            _order.Add(full);
        }

        _importable |= IsDottedIdentifier(module) && IsDottedIdentifier(name);
    }

    private static bool IsDottedIdentifier(string text)
    {
        if (text.Length == 0 || text.Length > 512)
        {
            return false;
        }

        var start = true;
        foreach (var c in text)
        {
            if (c == '.')
            {
                if (start) return false;
                start = true;
                continue;
            }

            if (!(char.IsAsciiLetter(c) || c == '_' || (!start && char.IsAsciiDigit(c)) || c > 127))
            {
                return false;
            }

            start = false;
        }

        return !start;
    }

    internal void RecordUnresolved(string what)
    {
        if (!_verdicts.ContainsKey(what))
        {
            _verdicts[what] = ScanVerdicts.Dangerous;
            _order.Add(what);
        }
    }

    internal void RecordSuspicious(string what)
    {
        if (!_verdicts.ContainsKey(what))
        {
            _verdicts[what] = ScanVerdicts.Suspicious;
            _order.Add(what);
        }
    }
}
