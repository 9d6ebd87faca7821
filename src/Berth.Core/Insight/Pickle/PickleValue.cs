using System.Numerics;

namespace Berth.Core.Insight.Pickle;

/// <summary>
/// What the scanner knows of a value on the pickle machine's stack: enough to resolve <c>STACK_GLOBAL</c>'s operands, read
/// PyTorch's storage ids and tensor shapes, and joblib's array headers. Containers keep their first
/// <see cref="MaxKept"/> items only, so memory stays bounded whatever the stream holds.
/// </summary>
internal abstract class PickleValue
{
    public const int MaxKept = 64;
}

/// <summary>A value the scanner does not need to know (floats, bytes, sets, big integers …).</summary>
internal sealed class OpaqueValue : PickleValue
{
    public static readonly OpaqueValue Instance = new();
    public static readonly OpaqueValue None = new();
    public static readonly OpaqueValue True = new();
    public static readonly OpaqueValue False = new();
}

/// <summary>A text string; <see cref="Truncated"/> when it was longer than the scanner keeps (then it never names a global).</summary>
internal sealed class StringValue(string value, bool truncated = false) : PickleValue
{
    public string Value { get; } = value;
    public bool Truncated { get; } = truncated;
}

internal sealed class IntValue : PickleValue
{
    private static readonly IntValue[] Small = Enumerable.Range(-1, 258).Select(i => new IntValue(i)).ToArray();

    private IntValue(BigInteger value) => Value = value;

    public BigInteger Value { get; }

    public static IntValue Of(BigInteger value) => value >= -1 && value <= 256 ? Small[(int)value + 1] : new IntValue(value);

    public long? AsInt64 => Value >= long.MinValue && Value <= long.MaxValue ? (long)Value : null;
}

/// <summary>A global (<c>module.name</c>) from <c>GLOBAL</c>, <c>STACK_GLOBAL</c> or <c>INST</c>.</summary>
internal sealed class GlobalValue(string module, string name) : PickleValue
{
    public string Module { get; } = module;
    public string Name { get; } = name;
    public string FullName => Module + "." + Name;
}

/// <summary>A list, tuple, set or dict's keys: its length and first items.</summary>
internal sealed class SequenceValue(bool isTuple) : PickleValue
{
    public bool IsTuple { get; } = isTuple;
    public List<PickleValue> Items { get; } = [];
    public long Count { get; private set; }

    public void Add(PickleValue item)
    {
        Count++;
        if (Items.Count < MaxKept)
        {
            Items.Add(item);
        }
    }

    public static SequenceValue Tuple(IEnumerable<PickleValue> items)
    {
        var tuple = new SequenceValue(isTuple: true);
        foreach (var item in items)
        {
            tuple.Add(item);
        }

        return tuple;
    }
}

/// <summary>A dict: its first entries.</summary>
internal sealed class DictValue : PickleValue
{
    public List<KeyValuePair<PickleValue, PickleValue>> Entries { get; } = [];

    public void Set(PickleValue key, PickleValue value)
    {
        if (Entries.Count < MaxKept)
        {
            Entries.Add(new(key, value));
        }
    }

    public PickleValue? Get(string key)
    {
        for (var i = Entries.Count - 1; i >= 0; i--)
        {
            if (Entries[i].Key is StringValue s && s.Value == key)
            {
                return Entries[i].Value;
            }
        }

        return null;
    }
}

/// <summary>The result of calling something: <c>REDUCE</c>, <c>NEWOBJ</c>, <c>OBJ</c>, <c>INST</c>; <c>BUILD</c> gives it its state.</summary>
internal sealed class CallValue(PickleValue callable, PickleValue arguments) : PickleValue
{
    public PickleValue Callable { get; } = callable;
    public PickleValue Arguments { get; } = arguments;
    public PickleValue? State { get; set; }

    public bool Is(string module, string name) => Callable is GlobalValue g && g.Module == module && g.Name == name;
}

/// <summary>A persistent id (<c>PERSID</c>, <c>BINPERSID</c>): how PyTorch refers to its storages.</summary>
internal sealed class PersistentValue(PickleValue id) : PickleValue
{
    public PickleValue Id { get; } = id;
}
