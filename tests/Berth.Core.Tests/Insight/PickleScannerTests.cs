using Berth.Contracts.Dtos;
using Berth.Core.Insight.Pickle;

namespace Berth.Core.Tests.Insight;

/// <summary>The opcode scanner on streams written byte by byte: each way of naming a global, and what a hostile stream cannot do to it.</summary>
public sealed class PickleScannerTests
{
    private static Task<PickleScanResult> Scan(byte[] bytes) => PickleScanner.ScanAsync(new MemoryStream(bytes), TestContext.Current.CancellationToken);

    /// <summary>Bytes written as a Python bytes literal's body: <c>\x80</c> is one byte (exactly two hex digits), <c>\n</c> a newline.</summary>
    private static byte[] B(string python)
    {
        var bytes = new List<byte>();
        for (var i = 0; i < python.Length; i++)
        {
            if (python[i] == '\\' && i + 1 < python.Length && python[i + 1] == 'x')
            {
                bytes.Add(Convert.ToByte(python.Substring(i + 2, 2), 16));
                i += 3;
            }
            else if (python[i] == '\\' && i + 1 < python.Length && python[i + 1] == 'n')
            {
                bytes.Add((byte)'\n');
                i++;
            }
            else
            {
                bytes.Add((byte)python[i]);
            }
        }

        return [.. bytes];
    }

    private static byte[] Concat(params byte[][] parts) => parts.SelectMany(p => p).ToArray();

    [Fact]
    public async Task ASafeDictOfBuiltinsHasNoGlobalsAndIsSafe()
    {
        var result = await Scan(B("\\x80\\x04}\\x94(\\x8c\\x01a\\x94K\\x01\\x8c\\x01b\\x94]\\x94(K\\x02G@\\x09!\\xfbTD-\\x18eu."));

        Assert.Equal(ScanVerdicts.Safe, result.Verdict);
        Assert.Equal(0, result.GlobalCount);
        Assert.Equal(1, result.Streams);
        Assert.Null(result.Error);
    }

    [Theory]
    [InlineData("cbuiltins\\neval\\n(S'1+1'\\ntR.", "builtins.eval")]
    [InlineData("csubprocess\\nPopen\\n(S'ls'\\ntR.", "subprocess.Popen")]
    [InlineData("(S'ls'\\nios\\nsystem\\n.", "os.system")]
    [InlineData("cbuiltins\\ngetattr\\n(cbuiltins\\nobject\\nS'__class__'\\ntR.", "builtins.getattr")]
    [InlineData("crunpy\\nrun_path\\n(S'x.py'\\ntR.", "runpy.run_path")]
    [InlineData("cwebbrowser\\nopen\\n(S'http://x'\\ntR.", "webbrowser.open")]
    [InlineData("c__builtin__\\nexecfile\\n(S'x'\\ntR.", "__builtin__.execfile")]
    [InlineData("ctorch.nn.modules.linear\\nLinear.__init__.__globals__\\n.", "torch.nn.modules.linear.Linear.__init__.__globals__")]
    public async Task TextGlobalsAndInstThatRunCodeAreDangerous(string pickle, string global)
    {
        var result = await Scan(B(pickle));

        Assert.Equal(ScanVerdicts.Dangerous, result.Verdict);
        Assert.Contains(result.Globals, g => g.Global == global && g.Verdict == ScanVerdicts.Dangerous);
    }

    [Fact]
    public async Task ObjCallsTheClassOnTheMarkAndItIsRecorded()
    {
        var result = await Scan(B("\\x80\\x02(cos\\nsystem\\nS'ls'\\no."));

        Assert.Contains(result.Globals, g => g.Global == "os.system");
        Assert.Equal(ScanVerdicts.Dangerous, result.Verdict);
    }

    [Fact]
    public async Task StackGlobalResolvesNamesFromLongMemoIndexesAndTextGet()
    {
        // LONG_BINPUT/LONG_BINGET for the module, PUT/GET (text) for the name.
        var bytes = Concat(B("\\x80\\x04\\x8c\\x02os"), B("r\\x10\\x00\\x00\\x00"), B("0\\x8c\\x06system"), B("p7\\n0"),
            B("j\\x10\\x00\\x00\\x00g7\\n\\x93."));
        var result = await Scan(bytes);

        Assert.Equal(["os.system"], result.Globals.Select(g => g.Global));
        Assert.Equal(ScanVerdicts.Dangerous, result.Verdict);
    }

    [Fact]
    public async Task AStackGlobalWhoseNamesAreComputedIsDangerous()
    {
        // str(b'os', 'latin1') is computed at load time: the scanner cannot know the global, so it must assume the worst.
        var bytes = B("\\x80\\x04\\x8c\\x08builtins\\x8c\\x03str\\x93C\\x02os\\x8c\\x06latin1\\x86R\\x8c\\x06system\\x93.");
        var result = await Scan(bytes);

        Assert.Equal(ScanVerdicts.Dangerous, result.Verdict);
        Assert.Contains(result.Globals, g => g.Global == "<result of builtins.str>.system" && g.Verdict == ScanVerdicts.Dangerous);
    }

    [Fact]
    public async Task ExtensionCodesAreSuspicious()
    {
        var result = await Scan(B("\\x80\\x02\\x82\\x07)R."));

        Assert.Equal(ScanVerdicts.Suspicious, result.Verdict);
        Assert.Contains(result.Globals, g => g.Global == "copyreg.extension[7]");
    }

    [Fact]
    public async Task AllowListedGlobalsAreSafeAndOthersSuspicious()
    {
        var safe = await Scan(B("\\x80\\x02ccollections\\nOrderedDict\\n)R."));
        var unknown = await Scan(B("\\x80\\x02cmypackage.models\\nNet\\n)R."));

        Assert.Equal(ScanVerdicts.Safe, safe.Verdict);
        Assert.Equal(ScanVerdicts.Suspicious, unknown.Verdict);
    }

    [Theory]
    [InlineData("\\x80\\x04\\x8c\\x05hello", "truncated")]
    [InlineData("\\x80\\x04\\x8c\\x05hello\\x94\\xff.", "unknown opcode 0xff")]
    [InlineData("\\x80\\x04a.", "empty stack")]
    [InlineData("\\x80\\x04h\\x05.", "never written")]
    [InlineData("\\x80\\x09.", "unsupported pickle protocol 9")]
    [InlineData("\\x80\\x04e.", "MARK")]
    [InlineData("\\x80\\x04X\\xff\\xff\\xff\\x7f", "truncated")]
    public async Task AStreamItCannotReadIsSuspiciousWithTheReason(string pickle, string reason)
    {
        var result = await Scan(B(pickle));

        Assert.Equal(ScanVerdicts.Suspicious, result.Verdict);
        Assert.Contains(reason, result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task APayloadAfterAnUnreadablePartKeepsItsDangerousGlobal()
    {
        // Python runs os.system before it reaches the garbage: the verdict is dangerous, not merely unreadable.
        var result = await Scan(B("cos\\nsystem\\n(S'ls'\\ntR\\xff\\xff"));

        Assert.Equal(ScanVerdicts.Dangerous, result.Verdict);
        Assert.NotNull(result.Error);
    }

    [Fact]
    public async Task LongStringsAndBytesAreSkippedWithoutBeingKept()
    {
        var big = new byte[10_000_000];
        var bytes = Concat(B("\\x80\\x04\\x8e"), BitConverter.GetBytes((ulong)big.Length), big, B("\\x94X"), BitConverter.GetBytes(5_000_000), new byte[5_000_000], B("\\x86cos\\nsystem\\n."));
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = await Scan(bytes);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(ScanVerdicts.Dangerous, result.Verdict);
        Assert.True(allocated < 4_000_000, $"allocated {allocated} bytes");
    }

    [Fact]
    public async Task AGlobalAfterAValidFirstPickleIsFoundInTheNextStream()
    {
        var result = await Scan(B("\\x80\\x04K\\x01.\\x80\\x04cos\\nsystem\\n."));

        Assert.Equal(2, result.Streams);
        Assert.Equal(ScanVerdicts.Dangerous, result.Verdict);
    }

    [Fact]
    public async Task TrailingBytesAfterThePickleAreIgnored()
    {
        var result = await Scan(Concat(B("\\x80\\x04K\\x01."), new byte[] { 0x80, 0x02, 0xff, 0x00, 0x12 }));

        Assert.Equal(ScanVerdicts.Safe, result.Verdict);
        Assert.Null(result.Error);
    }

    [Fact]
    public async Task HostileSizesStopAtTheLimitsQuickly()
    {
        var marks = Enumerable.Repeat((byte)'(', PickleScanner.MaxMarks + 10).ToArray();
        var memo = Concat(B("\\x80\\x04N"), Enumerable.Repeat((byte)0x94, PickleScanner.MaxMemo + 10).ToArray());
        var stack = Enumerable.Repeat((byte)'N', PickleScanner.MaxStack + 10).ToArray();

        foreach (var (bytes, limit) in new[] { (marks, "marks"), (memo, "memo"), (stack, "stack") })
        {
            var result = await Scan(bytes);
            Assert.Equal(ScanVerdicts.Suspicious, result.Verdict);
            Assert.Contains(limit, result.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task SparseMemoIndexesDoNotAllocateTheGap()
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        var result = await Scan(B("\\x80\\x04N\\x72\\xff\\xff\\xff\\x7f\\x6a\\xff\\xff\\xff\\x7f."));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Null(result.Error);
        Assert.True(allocated < 2_000_000, $"allocated {allocated} bytes");
    }
}
