using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;

namespace Berth.Core.Insight.Pickle;

/// <summary>
/// Reads pickle streams opcode by opcode, never unpickling: it runs a symbolic pickle machine (stack, marks, memo) that
/// knows only what it must to find every global the stream imports or calls — <c>GLOBAL</c>, <c>INST</c>,
/// <c>STACK_GLOBAL</c> with its operands resolved through the memo, <c>EXT1/2/4</c> — plus PyTorch's storages and tensors
/// and joblib's inline array bytes (skipped, or scanned as nested pickles when they hold objects). Protocols 0 to 5.
/// </summary>
/// <remarks>
/// Bounded on hostile input: memory by <see cref="MaxStack"/>, <see cref="MaxMemo"/>, <see cref="MaxMarks"/>, the items
/// each container keeps (<see cref="PickleValue.MaxKept"/>) and the longest string kept (<see cref="MaxKeptString"/>;
/// longer ones are skipped without being read into memory); time by the stream's length (each byte is looked at once).
/// Whatever stops it early — truncation, an unknown opcode, a limit — is <see cref="PickleScanResult.Error"/>, which makes
/// the verdict at least suspicious. A <c>STACK_GLOBAL</c> whose names are not plain strings is dangerous: its global is
/// computed at load time and could be anything.
/// </remarks>
public sealed class PickleScanner
{
    public const int MaxStack = 4_000_000;
    public const int MaxMarks = 1_000_000;
    public const int MaxMemo = 4_000_000;
    public const int MaxKeptString = 4096;
    public const int MaxLine = 64 * 1024;
    public const int MaxNesting = 8;
    public const int MaxStreams = 1024;
    public const int MaxDistinctGlobals = 10_000;
    private const int MaxKeptInteger = 64;
    private const int BufferSize = 256 * 1024;

    private static readonly BigInteger TorchMagic = BigInteger.Parse("119547037146038801333356", CultureInfo.InvariantCulture);

    private readonly Stream _stream;
    private readonly PickleScanResult _result = new();
    private byte[] _buffer = new byte[BufferSize];
    private int _pos;
    private int _end;
    private bool _eof;
    private long _consumedBefore;

    private Machine _machine = new();
    private readonly Stack<Machine> _outer = new();

    /// <summary>Bytes still to skip (joblib array data, long strings).</summary>
    private long _skip;

    /// <summary>A line too long to keep is being skipped to its newline.</summary>
    private bool _skipLine;

    /// <summary>After a joblib array header with alignment: one byte holds the padding length to skip.</summary>
    private bool _paddingByte;

    /// <summary>A joblib object array's pickle starts here.</summary>
    private bool _nestedNext;

    /// <summary>The last top-level STOP's value.</summary>
    private PickleValue? _stopValue;

    private PickleScanner(Stream stream) => _stream = stream;

    /// <summary>Scans the pickle stream(s) in <paramref name="stream"/>; never throws for what the bytes hold.</summary>
    public static async Task<PickleScanResult> ScanAsync(Stream stream, CancellationToken cancellationToken)
    {
        var scanner = new PickleScanner(stream);
        try
        {
            await scanner.RunAsync(cancellationToken);
        }
        catch (InsightFormatException e)
        {
            scanner._result.Error = e.Message;
        }
        catch (InvalidDataException e)
        {
            // A compressed stream (zip entry, gzip) that is corrupt.
            scanner._result.Error = "the compressed data is corrupt: " + e.Message;
        }

        scanner._result.BytesScanned = scanner._consumedBefore + scanner._pos;
        return scanner._result;
    }

    private enum Outcome
    {
        NeedMore,
        Stop,
        Action,
    }

    private async Task RunAsync(CancellationToken cancellationToken)
    {
        var streamStart = true;
        var optionalStream = false;
        var globalsAtStreamStart = 0;
        while (true)
        {
            if (streamStart)
            {
                if (_end - _pos < 2 && !_eof)
                {
                    await FillAsync(2, cancellationToken);
                }

                if (_end - _pos == 0)
                {
                    if (_result.Streams == 0)
                    {
                        throw new InsightFormatException("the file is empty");
                    }

                    return;
                }

                if (_result.Streams == 0 && _outer.Count == 0)
                {
                    _result.StartsWithProto = _buffer[_pos] == 0x80 && _end - _pos >= 2 && _buffer[_pos + 1] <= 5;
                }

                streamStart = false;
                globalsAtStreamStart = _result.GlobalCount;
            }

            Outcome outcome;
            try
            {
                outcome = _skip > 0 || _skipLine || _paddingByte ? await ContinueActionAsync(cancellationToken) : Run();
            }
            catch (InsightFormatException) when (optionalStream && _result.GlobalCount == globalsAtStreamStart)
            {
                // Bytes after the last pickle that merely began like one (PROTO): trailing data, as pickle.load sees it.
                return;
            }

            switch (outcome)
            {
                case Outcome.NeedMore:
                    if (!await FillAsync(_need, cancellationToken))
                    {
                        if (optionalStream && _result.GlobalCount == globalsAtStreamStart)
                        {
                            return;
                        }

                        throw new InsightFormatException($"the pickle is truncated: it ends at byte {_consumedBefore + _end} inside an opcode or before its STOP");
                    }

                    break;

                case Outcome.Action:
                    if (_nestedNext)
                    {
                        _nestedNext = false;
                        if (_outer.Count >= MaxNesting)
                        {
                            throw new InsightFormatException($"pickles are nested more than {MaxNesting} deep");
                        }

                        _outer.Push(_machine);
                        _machine = new Machine();
                    }

                    break;

                case Outcome.Stop:
                    _result.Streams++;
                    if (_outer.Count > 0)
                    {
                        _machine = _outer.Pop();
                        break;
                    }

                    if (_result.Streams == 1 && _stopValue is IntValue magic && magic.Value == TorchMagic)
                    {
                        _result.LegacyTorch = true;
                    }

                    // A legacy PyTorch file is five pickles (magic, protocol, system info, the object, the storage keys),
                    // then the storages' raw bytes.
                    if (_result.LegacyTorch && _result.Streams >= 5)
                    {
                        return;
                    }

                    if (_result.Streams >= MaxStreams)
                    {
                        return;
                    }

                    if (_end - _pos < 2 && !_eof)
                    {
                        await FillAsync(2, cancellationToken);
                    }

                    if (_end - _pos == 0 || (!_result.LegacyTorch && _buffer[_pos] != 0x80))
                    {
                        return;
                    }

                    _machine = new Machine();
                    streamStart = true;
                    optionalStream = !_result.LegacyTorch;
                    break;
            }
        }
    }

    private int _need;

    /// <summary>Ensures <paramref name="count"/> bytes are buffered (growing the buffer for long lines); false at the end of the stream.</summary>
    private async ValueTask<bool> FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_end - _pos >= count)
        {
            return true;
        }

        if (_pos > 0)
        {
            Buffer.BlockCopy(_buffer, _pos, _buffer, 0, _end - _pos);
            _consumedBefore += _pos;
            _end -= _pos;
            _pos = 0;
        }

        if (count > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(count, _buffer.Length * 2));
        }

        while (_end < count && !_eof)
        {
            var read = await _stream.ReadAsync(_buffer.AsMemory(_end, _buffer.Length - _end), cancellationToken);
            if (read == 0)
            {
                _eof = true;
            }

            _end += read;
        }

        return _end - _pos >= count;
    }

    /// <summary>Skips bytes (joblib array data, long strings), the rest of a long line, or a joblib padding.</summary>
    private async ValueTask<Outcome> ContinueActionAsync(CancellationToken cancellationToken)
    {
        if (_paddingByte)
        {
            if (!await FillAsync(1, cancellationToken))
            {
                _need = 1;
                return Outcome.NeedMore;
            }

            // The padding comes before the array's bytes, which are already counted in _skip.
            _skip += _buffer[_pos++];
            _paddingByte = false;
        }

        while (_skip > 0)
        {
            if (_pos == _end && !await FillAsync(1, cancellationToken))
            {
                throw new InsightFormatException($"the file is truncated: it ends at byte {_consumedBefore + _end} inside data the pickle declares");
            }

            var take = (int)Math.Min(_skip, _end - _pos);
            _pos += take;
            _skip -= take;
        }

        while (_skipLine)
        {
            if (_pos == _end && !await FillAsync(1, cancellationToken))
            {
                throw new InsightFormatException("the pickle is truncated inside a text line");
            }

            var newline = Array.IndexOf(_buffer, (byte)'\n', _pos, _end - _pos);
            if (newline < 0)
            {
                _pos = _end;
            }
            else
            {
                _pos = newline + 1;
                _skipLine = false;
            }
        }

        return Outcome.Action;
    }

    /// <summary>Runs the opcodes that are wholly buffered; stops when more bytes are needed, at STOP, or for an action.</summary>
    private Outcome Run()
    {
        var buffer = _buffer;
        var m = _machine;
        while (true)
        {
            var available = _end - _pos;
            if (available < 1)
            {
                _need = 1;
                return Outcome.NeedMore;
            }

            var p = _pos;
            var op = buffer[p];
            switch (op)
            {
                case (byte)'(': // MARK
                    m.Mark();
                    _pos = p + 1;
                    break;

                case (byte)'.': // STOP
                    _stopValue = m.Pop();
                    _pos = p + 1;
                    return Outcome.Stop;

                case (byte)'0': // POP
                    if (m.Stack.Count > m.StackBase)
                    {
                        m.Pop();
                    }
                    else
                    {
                        m.PopMark();
                    }

                    _pos = p + 1;
                    break;

                case (byte)'1': // POP_MARK
                    m.PopMark();
                    _pos = p + 1;
                    break;

                case (byte)'2': // DUP
                    m.Push(m.Top());
                    _pos = p + 1;
                    break;

                case (byte)'N': // NONE
                    m.Push(OpaqueValue.None);
                    _pos = p + 1;
                    break;

                case 0x88: // NEWTRUE
                    m.Push(OpaqueValue.True);
                    _pos = p + 1;
                    break;

                case 0x89: // NEWFALSE
                    m.Push(OpaqueValue.False);
                    _pos = p + 1;
                    break;

                case (byte)'G': // BINFLOAT
                    if (available < 9) return Need(9);
                    m.Push(OpaqueValue.Instance);
                    _pos = p + 9;
                    break;

                case (byte)'J': // BININT
                    if (available < 5) return Need(5);
                    m.Push(IntValue.Of(BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(p + 1, 4))));
                    _pos = p + 5;
                    break;

                case (byte)'K': // BININT1
                    if (available < 2) return Need(2);
                    m.Push(IntValue.Of(buffer[p + 1]));
                    _pos = p + 2;
                    break;

                case (byte)'M': // BININT2
                    if (available < 3) return Need(3);
                    m.Push(IntValue.Of(BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(p + 1, 2))));
                    _pos = p + 3;
                    break;

                case 0x8a: // LONG1
                {
                    if (available < 2) return Need(2);
                    var n = buffer[p + 1];
                    if (available < 2 + n) return Need(2 + n);
                    m.Push(IntValue.Of(new BigInteger(buffer.AsSpan(p + 2, n), isUnsigned: false, isBigEndian: false)));
                    _pos = p + 2 + n;
                    break;
                }

                case 0x8b: // LONG4
                {
                    if (available < 5) return Need(5);
                    var n = BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(p + 1, 4));
                    if (n < 0) throw Corrupt("LONG4 with a negative length");
                    if (n > MaxKeptInteger)
                    {
                        m.Push(OpaqueValue.Instance);
                        _pos = p + 5;
                        if (SkipBytes(n) is { } skipping) return skipping;
                        break;
                    }

                    if (available < 5 + n) return Need(5 + n);
                    m.Push(IntValue.Of(new BigInteger(buffer.AsSpan(p + 5, n), isUnsigned: false, isBigEndian: false)));
                    _pos = p + 5 + n;
                    break;
                }

                case (byte)'X': // BINUNICODE
                case (byte)'T': // BINSTRING
                case (byte)'B': // BINBYTES
                {
                    if (available < 5) return Need(5);
                    var n = BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(p + 1, 4));
                    if (op == (byte)'T' && n > int.MaxValue) throw Corrupt("BINSTRING with a negative length");
                    var outcome = LengthPrefixed(op, p, 5, n);
                    if (outcome is { } o) return o;
                    break;
                }

                case 0x8c: // SHORT_BINUNICODE
                case (byte)'U': // SHORT_BINSTRING
                case (byte)'C': // SHORT_BINBYTES
                {
                    if (available < 2) return Need(2);
                    var outcome = LengthPrefixed(op, p, 2, buffer[p + 1]);
                    if (outcome is { } o) return o;
                    break;
                }

                case 0x8d: // BINUNICODE8
                case 0x8e: // BINBYTES8
                case 0x96: // BYTEARRAY8
                {
                    if (available < 9) return Need(9);
                    var n = BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(p + 1, 8));
                    if (n > long.MaxValue) throw Corrupt("a length past 2^63");
                    var outcome = LengthPrefixed(op, p, 9, n);
                    if (outcome is { } o) return o;
                    break;
                }

                case 0x95: // FRAME
                    if (available < 9) return Need(9);
                    _pos = p + 9;
                    break;

                case 0x80: // PROTO
                    if (available < 2) return Need(2);
                    if (buffer[p + 1] > 5) throw Corrupt($"unsupported pickle protocol {buffer[p + 1]}");
                    _pos = p + 2;
                    break;

                case (byte)'a': // APPEND
                {
                    var value = m.Pop();
                    if (m.Top() is SequenceValue list) list.Add(value);
                    _pos = p + 1;
                    break;
                }

                case (byte)'e': // APPENDS
                {
                    var items = m.PopMark();
                    if (m.Top() is SequenceValue list) foreach (var item in items) list.Add(item);
                    _pos = p + 1;
                    break;
                }

                case (byte)'b': // BUILD
                {
                    var state = m.Pop();
                    var instance = m.Top();
                    _pos = p + 1;
                    if (instance is CallValue call)
                    {
                        call.State = state;
                        if (call.Callable is GlobalValue { Name: "NumpyArrayWrapper" } wrapper && wrapper.Module.EndsWith("numpy_pickle", StringComparison.Ordinal))
                        {
                            return JoblibArray(state);
                        }
                    }

                    break;
                }

                case (byte)'d': // DICT
                {
                    var items = m.PopMark();
                    var dict = new DictValue();
                    for (var i = 0; i + 1 < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
                    m.Push(dict);
                    _pos = p + 1;
                    break;
                }

                case (byte)'}': // EMPTY_DICT
                    m.Push(new DictValue());
                    _pos = p + 1;
                    break;

                case (byte)'s': // SETITEM
                {
                    var value = m.Pop();
                    var key = m.Pop();
                    if (m.Top() is DictValue dict) dict.Set(key, value);
                    _pos = p + 1;
                    break;
                }

                case (byte)'u': // SETITEMS
                {
                    var items = m.PopMark();
                    if (m.Top() is DictValue dict)
                    {
                        for (var i = 0; i + 1 < items.Count; i += 2) dict.Set(items[i], items[i + 1]);
                    }

                    _pos = p + 1;
                    break;
                }

                case (byte)'l': // LIST
                {
                    var items = m.PopMark();
                    var list = new SequenceValue(isTuple: false);
                    foreach (var item in items) list.Add(item);
                    m.Push(list);
                    _pos = p + 1;
                    break;
                }

                case (byte)']': // EMPTY_LIST
                    m.Push(new SequenceValue(isTuple: false));
                    _pos = p + 1;
                    break;

                case (byte)'t': // TUPLE
                    m.Push(SequenceValue.Tuple(m.PopMark()));
                    _pos = p + 1;
                    break;

                case (byte)')': // EMPTY_TUPLE
                    m.Push(SequenceValue.Tuple([]));
                    _pos = p + 1;
                    break;

                case 0x85: // TUPLE1
                    m.Push(SequenceValue.Tuple([m.Pop()]));
                    _pos = p + 1;
                    break;

                case 0x86: // TUPLE2
                {
                    var b = m.Pop();
                    var a = m.Pop();
                    m.Push(SequenceValue.Tuple([a, b]));
                    _pos = p + 1;
                    break;
                }

                case 0x87: // TUPLE3
                {
                    var c = m.Pop();
                    var b = m.Pop();
                    var a = m.Pop();
                    m.Push(SequenceValue.Tuple([a, b, c]));
                    _pos = p + 1;
                    break;
                }

                case 0x8f: // EMPTY_SET
                    m.Push(new SequenceValue(isTuple: false));
                    _pos = p + 1;
                    break;

                case 0x90: // ADDITEMS
                {
                    var items = m.PopMark();
                    if (m.Top() is SequenceValue set) foreach (var item in items) set.Add(item);
                    _pos = p + 1;
                    break;
                }

                case 0x91: // FROZENSET
                {
                    var items = m.PopMark();
                    var set = new SequenceValue(isTuple: false);
                    foreach (var item in items) set.Add(item);
                    m.Push(set);
                    _pos = p + 1;
                    break;
                }

                case (byte)'R': // REDUCE
                {
                    var args = m.Pop();
                    var callable = m.Pop();
                    m.Push(Call(callable, args));
                    _pos = p + 1;
                    break;
                }

                case 0x81: // NEWOBJ
                {
                    var args = m.Pop();
                    var cls = m.Pop();
                    m.Push(new CallValue(cls, args));
                    _pos = p + 1;
                    break;
                }

                case 0x92: // NEWOBJ_EX
                {
                    m.Pop();
                    var args = m.Pop();
                    var cls = m.Pop();
                    m.Push(new CallValue(cls, args));
                    _pos = p + 1;
                    break;
                }

                case (byte)'o': // OBJ
                {
                    var items = m.PopMark();
                    if (items.Count == 0) throw Corrupt("OBJ without a class");
                    m.Push(new CallValue(items[0], SequenceValue.Tuple(items.Skip(1))));
                    _pos = p + 1;
                    break;
                }

                case 0x93: // STACK_GLOBAL
                {
                    var name = m.Pop();
                    var module = m.Pop();
                    if (module is StringValue { Truncated: false } mod && name is StringValue { Truncated: false } nam)
                    {
                        _result.Record(mod.Value, nam.Value);
                        m.Push(new GlobalValue(mod.Value, nam.Value));
                    }
                    else
                    {
                        // Names computed at load time (the result of a call, a long string): the global could be anything.
                        _result.RecordUnresolved($"{Describe(module)}.{Describe(name)}");
                        m.Push(OpaqueValue.Instance);
                    }

                    _pos = p + 1;
                    break;
                }

                case 0x82: // EXT1
                case 0x83: // EXT2
                case 0x84: // EXT4
                {
                    var size = op == 0x82 ? 1 : op == 0x83 ? 2 : 4;
                    if (available < 1 + size) return Need(1 + size);
                    var code = size switch
                    {
                        1 => buffer[p + 1],
                        2 => BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(p + 1, 2)),
                        _ => BinaryPrimitives.ReadInt32LittleEndian(buffer.AsSpan(p + 1, 4)),
                    };
                    // The copyreg extension registry is empty unless a program fills it: whatever the code names is unknown here.
                    _result.RecordSuspicious($"copyreg.extension[{code}]");
                    m.Push(OpaqueValue.Instance);
                    _pos = p + 1 + size;
                    break;
                }

                case (byte)'Q': // BINPERSID
                    m.Push(Persistent(m.Pop()));
                    _pos = p + 1;
                    break;

                case 0x94: // MEMOIZE
                    m.Memoize(m.Top());
                    _pos = p + 1;
                    break;

                case (byte)'q': // BINPUT
                    if (available < 2) return Need(2);
                    m.Put(buffer[p + 1], m.Top());
                    _pos = p + 2;
                    break;

                case (byte)'r': // LONG_BINPUT
                    if (available < 5) return Need(5);
                    m.Put(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(p + 1, 4)), m.Top());
                    _pos = p + 5;
                    break;

                case (byte)'h': // BINGET
                    if (available < 2) return Need(2);
                    m.Push(m.Get(buffer[p + 1]));
                    _pos = p + 2;
                    break;

                case (byte)'j': // LONG_BINGET
                    if (available < 5) return Need(5);
                    m.Push(m.Get(BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(p + 1, 4))));
                    _pos = p + 5;
                    break;

                case 0x97: // NEXT_BUFFER
                    m.Push(OpaqueValue.Instance);
                    _pos = p + 1;
                    break;

                case 0x98: // READONLY_BUFFER
                    m.Top();
                    _pos = p + 1;
                    break;

                // Protocol 0's text opcodes: arguments end with a newline.
                case (byte)'c': // GLOBAL
                case (byte)'i': // INST
                {
                    var first = FindLine(p + 1, MaxKeptString);
                    if (first < 0) return first == -1 ? Need(available + 1) : throw Corrupt($"a {(op == 'c' ? "GLOBAL" : "INST")} module name longer than {MaxKeptString} bytes");
                    var second = FindLine(first + 1, MaxKeptString);
                    if (second < 0) return second == -1 ? Need(available + 1) : throw Corrupt($"a {(op == 'c' ? "GLOBAL" : "INST")} name longer than {MaxKeptString} bytes");
                    var module = Encoding.UTF8.GetString(buffer, p + 1, first - p - 1);
                    var name = Encoding.UTF8.GetString(buffer, first + 1, second - first - 1);
                    _result.Record(module, name);
                    var global = new GlobalValue(module, name);
                    if (op == (byte)'c')
                    {
                        m.Push(global);
                    }
                    else
                    {
                        m.Push(new CallValue(global, SequenceValue.Tuple(m.PopMark())));
                    }

                    _pos = second + 1;
                    break;
                }

                case (byte)'S': // STRING
                case (byte)'V': // UNICODE
                case (byte)'I': // INT
                case (byte)'L': // LONG
                case (byte)'F': // FLOAT
                case (byte)'P': // PERSID
                {
                    var end = FindLine(p + 1, MaxLine);
                    if (end == -1) return Need(available + 1);
                    if (end == -2)
                    {
                        // Too long to keep: the value is skipped to its newline.
                        m.Push(op == (byte)'P' ? Persistent(OpaqueValue.Instance) : OpaqueValue.Instance);
                        _pos = _end;
                        _skipLine = true;
                        return Outcome.Action;
                    }

                    var line = buffer.AsSpan(p + 1, end - p - 1);
                    m.Push(op switch
                    {
                        (byte)'S' => DecodeStringLine(line),
                        (byte)'V' => DecodeUnicodeLine(line),
                        (byte)'I' => ParseIntLine(line),
                        (byte)'L' => ParseLongLine(line),
                        (byte)'F' => OpaqueValue.Instance,
                        _ => Persistent(Kept(Encoding.Latin1.GetString(line))),
                    });
                    _pos = end + 1;
                    break;
                }

                case (byte)'g': // GET
                case (byte)'p': // PUT
                {
                    var end = FindLine(p + 1, 32);
                    if (end == -1) return Need(available + 1);
                    if (end == -2) throw Corrupt("a memo index longer than 32 digits");
                    var index = ParseIndex(buffer.AsSpan(p + 1, end - p - 1));
                    if (op == (byte)'g')
                    {
                        m.Push(m.Get(index));
                    }
                    else
                    {
                        m.Put(index, m.Top());
                    }

                    _pos = end + 1;
                    break;
                }

                default:
                    throw Corrupt($"unknown opcode 0x{op:x2}");
            }
        }
    }

    private Outcome Need(int count)
    {
        _need = count;
        return Outcome.NeedMore;
    }

    private InsightFormatException Corrupt(string what) =>
        new($"the pickle is corrupt at byte {_consumedBefore + _pos}: {what}");

    /// <summary>The index of the newline ending a line that starts at <paramref name="start"/>; -1: not buffered yet; -2: longer than <paramref name="max"/>.</summary>
    private int FindLine(int start, int max)
    {
        var length = Math.Min(_end - start, max + 1);
        var newline = length <= 0 ? -1 : Array.IndexOf(_buffer, (byte)'\n', start, length);
        if (newline >= 0)
        {
            return newline;
        }

        if (_end - start > max)
        {
            return -2;
        }

        if (_eof)
        {
            throw new InsightFormatException($"the pickle is truncated: a text line is never ended (at byte {_consumedBefore + start})");
        }

        return -1;
    }

    /// <summary>A string, bytes or bytearray with a length prefix of <paramref name="header"/> bytes (opcode included).</summary>
    private Outcome? LengthPrefixed(byte op, int p, int header, ulong length)
    {
        var isText = op is (byte)'X' or (byte)'T' or 0x8c or (byte)'U' or 0x8d;
        if (!isText || length > MaxKeptString)
        {
            _machine.Push(isText ? new StringValue("", truncated: true) : OpaqueValue.Instance);
            _pos = p + header;
            return SkipBytes((long)length);
        }

        var n = (int)length;
        if (_end - p < header + n)
        {
            return Need(header + n);
        }

        var bytes = _buffer.AsSpan(p + header, n);
        // Python 3 decodes BINSTRING and SHORT_BINSTRING with the unpickler's encoding (ASCII by default): text too.
        var text = op is (byte)'T' or (byte)'U' ? Encoding.Latin1.GetString(bytes) : Encoding.UTF8.GetString(bytes);
        _machine.Push(new StringValue(text));
        _pos = p + header + n;
        return null;
    }

    /// <summary>Skips <paramref name="count"/> bytes: those buffered now, the rest as an action (null when none is left).</summary>
    private Outcome? SkipBytes(long count)
    {
        var buffered = Math.Min(count, _end - _pos);
        _pos += (int)buffered;
        _skip = count - buffered;
        return _skip > 0 ? Outcome.Action : null;
    }

    private PickleValue Call(PickleValue callable, PickleValue args)
    {
        if (callable is GlobalValue { Module: "torch._utils" } g && g.Name.StartsWith("_rebuild_", StringComparison.Ordinal))
        {
            _result.Tensors++;
        }

        return new CallValue(callable, args);
    }

    /// <summary>PyTorch's storage ids: <c>('storage', torch.FloatStorage, key, location, numel[, view])</c>.</summary>
    private PersistentValue Persistent(PickleValue id)
    {
        if (id is SequenceValue { Items: [StringValue { Value: "storage" }, GlobalValue type, StringValue key, _, IntValue count, ..] } &&
            count.AsInt64 is { } numel && _result.Storages.Count < 10_000_000)
        {
            var dtype = TorchDtypes.StorageDtype(type.Name) ?? type.Name;
            _result.Storages.TryAdd(key.Value, (dtype, numel));
        }

        return new PersistentValue(id);
    }

    /// <summary>
    /// joblib's <c>NumpyArrayWrapper</c> was built: its array's bytes follow inline (after a padding when aligned), or, for
    /// arrays of objects, a nested pickle. Skips the bytes, or scans the nested pickle.
    /// </summary>
    private Outcome JoblibArray(PickleValue state)
    {
        _result.Joblib = true;
        if (state is not DictValue dict)
        {
            throw Corrupt("a joblib array without its header");
        }

        if (dict.Get("dtype") is not CallValue dtype || !dtype.Is("numpy", "dtype") ||
            dtype.Arguments is not SequenceValue { Items: [StringValue code, ..] })
        {
            throw Corrupt("a joblib array whose dtype Berth cannot read");
        }

        var dtypeState = dtype.State as SequenceValue;
        var flags = dtypeState is { Items.Count: > 7 } && dtypeState.Items[7] is IntValue f ? f.AsInt64 : null;
        var elementSize = dtypeState is { Items.Count: > 5 } && dtypeState.Items[5] is IntValue e ? e.AsInt64 : null;
        if (code.Value.StartsWith('O') || (flags is { } bits && (bits & 1) != 0))
        {
            _nestedNext = true;
            return Outcome.Action;
        }

        if (elementSize is not > 0)
        {
            elementSize = ItemSize(code.Value) ?? throw Corrupt($"a joblib array of dtype '{code.Value}' whose element size Berth cannot tell");
        }

        if (dict.Get("shape") is not SequenceValue shape || shape.Count != shape.Items.Count)
        {
            throw Corrupt("a joblib array without a readable shape");
        }

        long count = 1;
        foreach (var dim in shape.Items)
        {
            if (dim is not IntValue { AsInt64: { } d } || d < 0)
            {
                throw Corrupt("a joblib array with a dimension that is not a number");
            }

            count = checked(count * d);
        }

        var bytes = checked(count * elementSize.Value);
        _paddingByte = dict.Get("numpy_array_alignment_bytes") is { } alignment && alignment != OpaqueValue.None;
        _skip = bytes;
        return Outcome.Action;
    }

    /// <summary>The element size of a numpy type code as dtype.__reduce__ writes it ('f8', 'i4', 'U10', 'S5', 'V16', 'b1').</summary>
    private static long? ItemSize(string code)
    {
        var start = code.Length;
        while (start > 0 && char.IsAsciiDigit(code[start - 1]))
        {
            start--;
        }

        if (start == code.Length || start == 0 || !long.TryParse(code.AsSpan(start), NumberStyles.None, CultureInfo.InvariantCulture, out var size))
        {
            return code is "?" ? 1 : null;
        }

        return code[start - 1] == 'U' ? size * 4 : size;
    }

    private static string Describe(PickleValue value) => value switch
    {
        StringValue { Truncated: true } => "<long string>",
        StringValue s => s.Value,
        CallValue { Callable: GlobalValue g } => $"<result of {g.FullName}>",
        _ => "<computed>",
    };

    private static StringValue Kept(string text) => text.Length <= MaxKeptString ? new StringValue(text) : new StringValue("", truncated: true);

    /// <summary>A protocol 0 STRING: a Python bytes literal in quotes, with backslash escapes.</summary>
    private StringValue DecodeStringLine(ReadOnlySpan<byte> line)
    {
        if (line.Length < 2 || line[0] != line[^1] || line[0] is not ((byte)'\'' or (byte)'"'))
        {
            throw Corrupt("a STRING argument that is not quoted");
        }

        var inner = line[1..^1];
        if (inner.Length > MaxKeptString)
        {
            return new StringValue("", truncated: true);
        }

        var text = new StringBuilder(inner.Length);
        for (var i = 0; i < inner.Length; i++)
        {
            var c = inner[i];
            if (c != '\\' || i + 1 >= inner.Length)
            {
                text.Append((char)c);
                continue;
            }

            var e = inner[++i];
            switch (e)
            {
                case (byte)'n': text.Append('\n'); break;
                case (byte)'t': text.Append('\t'); break;
                case (byte)'r': text.Append('\r'); break;
                case (byte)'a': text.Append('\a'); break;
                case (byte)'b': text.Append('\b'); break;
                case (byte)'f': text.Append('\f'); break;
                case (byte)'v': text.Append('\v'); break;
                case (byte)'\\' or (byte)'\'' or (byte)'"': text.Append((char)e); break;
                case (byte)'x' when i + 2 < inner.Length && IsHex(inner[i + 1]) && IsHex(inner[i + 2]):
                    text.Append((char)Convert.ToByte(Encoding.ASCII.GetString(inner.Slice(i + 1, 2)), 16));
                    i += 2;
                    break;
                case >= (byte)'0' and <= (byte)'7':
                {
                    var value = e - '0';
                    for (var k = 0; k < 2 && i + 1 < inner.Length && inner[i + 1] is >= (byte)'0' and <= (byte)'7'; k++)
                    {
                        value = (value * 8) + (inner[++i] - '0');
                    }

                    text.Append((char)(value & 0xff));
                    break;
                }

                default:
                    text.Append('\\').Append((char)e);
                    break;
            }
        }

        return new StringValue(text.ToString());
    }

    /// <summary>A protocol 0 UNICODE: raw-unicode-escape (\uXXXX and \UXXXXXXXX escapes, other bytes as Latin-1).</summary>
    private static StringValue DecodeUnicodeLine(ReadOnlySpan<byte> line)
    {
        if (line.Length > MaxKeptString * 2)
        {
            return new StringValue("", truncated: true);
        }

        var text = new StringBuilder(line.Length);
        for (var i = 0; i < line.Length; i++)
        {
            if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is (byte)'u' or (byte)'U')
            {
                var digits = line[i + 1] == 'u' ? 4 : 8;
                if (i + 2 + digits <= line.Length &&
                    int.TryParse(Encoding.ASCII.GetString(line.Slice(i + 2, digits)), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code) &&
                    code is >= 0 and <= 0x10FFFF)
                {
                    if (code is >= 0xD800 and <= 0xDFFF)
                    {
                        text.Append((char)code);
                    }
                    else
                    {
                        text.Append(char.ConvertFromUtf32(code));
                    }

                    i += 1 + digits;
                    continue;
                }
            }

            text.Append((char)line[i]);
        }

        return new StringValue(text.ToString());
    }

    private PickleValue ParseIntLine(ReadOnlySpan<byte> line)
    {
        var text = Encoding.ASCII.GetString(line).Trim();
        return text switch
        {
            "00" => OpaqueValue.False,
            "01" => OpaqueValue.True,
            _ => ParseInteger(text, "INT"),
        };
    }

    private PickleValue ParseLongLine(ReadOnlySpan<byte> line)
    {
        var text = Encoding.ASCII.GetString(line).Trim();
        return ParseInteger(text.EndsWith('L') ? text[..^1] : text, "LONG");
    }

    private PickleValue ParseInteger(string text, string opcode) =>
        text.Length <= 200 && BigInteger.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? IntValue.Of(value)
            : throw Corrupt($"an {opcode} argument that is not a number");

    private long ParseIndex(ReadOnlySpan<byte> line) =>
        long.TryParse(Encoding.ASCII.GetString(line).Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var index)
            ? index
            : throw Corrupt("a memo index that is not a number");

    private static bool IsHex(byte b) => char.IsAsciiHexDigit((char)b);

    /// <summary>The state of one pickle machine: its stack, the marks on it, and its memo.</summary>
    private sealed class Machine
    {
        public List<PickleValue> Stack { get; } = [];
        private readonly List<int> _marks = [];
        private readonly List<PickleValue?> _dense = [];
        private Dictionary<long, PickleValue>? _sparse;
        private int _memoCount;

        /// <summary>Where the items above the last mark start (0 without marks).</summary>
        public int StackBase => _marks.Count == 0 ? 0 : _marks[^1];

        public void Push(PickleValue value)
        {
            if (Stack.Count >= MaxStack)
            {
                throw new InsightFormatException($"the pickle's stack grows past {MaxStack} items");
            }

            Stack.Add(value);
        }

        public PickleValue Pop()
        {
            if (Stack.Count <= StackBase)
            {
                throw new InsightFormatException("the pickle is corrupt: an opcode pops from an empty stack");
            }

            var value = Stack[^1];
            Stack.RemoveAt(Stack.Count - 1);
            return value;
        }

        public PickleValue Top() => Stack.Count > StackBase
            ? Stack[^1]
            : throw new InsightFormatException("the pickle is corrupt: an opcode reads an empty stack");

        public void Mark()
        {
            if (_marks.Count >= MaxMarks)
            {
                throw new InsightFormatException($"the pickle sets more than {MaxMarks} marks");
            }

            _marks.Add(Stack.Count);
        }

        public List<PickleValue> PopMark()
        {
            if (_marks.Count == 0)
            {
                throw new InsightFormatException("the pickle is corrupt: an opcode needs a MARK there is none of");
            }

            var mark = _marks[^1];
            _marks.RemoveAt(_marks.Count - 1);
            var items = Stack.GetRange(mark, Stack.Count - mark);
            Stack.RemoveRange(mark, Stack.Count - mark);
            return items;
        }

        public void Memoize(PickleValue value) => Put(_memoCount, value);

        public void Put(long index, PickleValue value)
        {
            if (index < 0)
            {
                throw new InsightFormatException("the pickle is corrupt: a negative memo index");
            }

            if (index < _dense.Count)
            {
                if (_dense[(int)index] is null)
                {
                    _memoCount++;
                }

                _dense[(int)index] = value;
                return;
            }

            if (_memoCount >= MaxMemo)
            {
                throw new InsightFormatException($"the pickle's memo grows past {MaxMemo} entries");
            }

            if (index == _dense.Count && index < MaxMemo)
            {
                _dense.Add(value);
                _memoCount++;
                return;
            }

            _sparse ??= [];
            if (_sparse.TryAdd(index, value))
            {
                _memoCount++;
            }
            else
            {
                _sparse[index] = value;
            }
        }

        public PickleValue Get(long index) =>
            index >= 0 && index < _dense.Count && _dense[(int)index] is { } dense ? dense
            : _sparse is not null && _sparse.TryGetValue(index, out var sparse) ? sparse
            : throw new InsightFormatException($"the pickle is corrupt: it reads memo entry {index}, which was never written");
    }
}
