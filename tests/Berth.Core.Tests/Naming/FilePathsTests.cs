using System.Globalization;
using System.Text;
using Berth.Contracts.Manifests;

namespace Berth.Core.Tests.Naming;

/// <summary>
/// The rule that makes a version materialise identically on Linux, macOS and Windows: examples from the security
/// review, then properties checked over many generated names (seeded, so a failure repeats).
/// </summary>
public sealed class FilePathsTests
{
    private const int Rounds = 20_000;

    /// <summary>Characters that file systems treat specially, mixed with ordinary ones.</summary>
    private static readonly string[] Pieces =
    [
        "a", "b", "k", "K", "s", "S", "i", "I", "0", "1", "model", "weights", ".bin", ".txt", ".", " ", "-", "_", "~",
        "\u00E9", "e\u0301", "\u0301", "\u212A", "\u00DF", "\u1E9E", "ss", "SS", "\u017F", "\u0131", "\u0130", "\u03C2", "\u03C3", "\u03A3",
        "\u00B5", "\u03BC", "\uFB01", "fi", "\u212B", "\u00C5", "A\u030A", "\u2126", "\u03A9", "\uD55C", "\u1112\u1161\u11AB", "\u6A21",
        "\u202E", "\u200B", "\u200D", "\u200E", "\uFEFF", "\u00AD", "\u2028", "\u0001", "\u007F", "<", ">", ":", "\"", "|", "?", "*",
        "\uD83D\uDE00", "\uD800", "\uDC00", "CON", "con", "Nul", "aux", "PRN", "COM1", "lpt9", "COM\u00B9", "CONIN$", "\u00A0",
    ];

    private static readonly string[] ReservedStems =
        ["CON", "PRN", "AUX", "NUL", "COM0", "COM1", "COM5", "COM9", "LPT0", "LPT1", "LPT9", "COM\u00B9", "COM\u00B2", "LPT\u00B3", "CONIN$", "CONOUT$"];

    public sealed class Examples
    {
        [Theory]
        [InlineData("caf\u00E9", "cafe\u0301")]
        [InlineData("\u212A", "k")]
        [InlineData("K", "k")]
        [InlineData("a.", "a")]
        [InlineData("a ", "a")]
        [InlineData("stra\u00DFe", "STRASSE")]
        [InlineData("\u00C5", "\u212B")]
        [InlineData("\uFB01le", "FILE")]
        [InlineData("dir/x", "DIR/y")]
        [InlineData("a", "A/b")]
        public void PairsThatCollideOnMacOsOrWindowsAreRefusedNamingBothPaths(string first, string second)
        {
            var problem = FilePaths.Validate([first, second]);

            Assert.NotNull(problem);
            // A path that breaks a rule of its own is named alone; otherwise both sides of the collision are.
            Assert.Contains(problem.Paths, p => p == first || p == second);
        }

        [Theory]
        [InlineData("CON")]
        [InlineData("nul")]
        [InlineData("aux.txt")]
        [InlineData("Com1.tar.gz")]
        [InlineData("dir/LPT\u00B9")]
        [InlineData("PRN .log")]
        [InlineData("CONIN$")]
        [InlineData("con.d/x")]
        [InlineData("a/b.")]
        [InlineData("a /b")]
        [InlineData("evil\u202Egpj.exe")]
        [InlineData("zero\u200Bwidth")]
        [InlineData("bom\uFEFF")]
        [InlineData("line\u2028break")]
        [InlineData("cafe\u0301")]
        [InlineData("\u212Aelvin")]
        [InlineData("what?")]
        [InlineData("a:b")]
        [InlineData("x<y")]
        public void NamesThatWindowsOrMacOsChangeOrRefuseAreRefused(string path)
        {
            Assert.NotNull(FilePaths.CheckPortable(path));
            var problem = FilePaths.Validate([path]);
            Assert.NotNull(problem);
            Assert.Equal([path], problem.Paths);
        }

        [Theory]
        [InlineData("model.safetensors")]
        [InlineData("caf\u00E9/r\u00E9sum\u00E9.txt")]
        [InlineData("console/CONFIG.json")]
        [InlineData("COM10")]
        [InlineData(".hidden/..dots/.x")]
        [InlineData("\u6A21\u578B/\uD55C\uAE00.bin")]
        [InlineData("emoji\uD83D\uDE00.txt")]
        [InlineData("stra\u00DFe")]
        public void OrdinaryAndInternationalNamesPass(string path)
        {
            Assert.Null(FilePaths.CheckPortable(path));
            Assert.Null(FilePaths.Validate([path]));
        }

        [Fact]
        public void LoneSurrogatesAreRefused()
        {
            // Not as theory data: test discovery would turn them into replacement characters.
            foreach (var path in new[] { "lone\uD800", "\uDC00x", "a/b\uD83D" })
            {
                Assert.NotNull(FilePaths.CheckPortable(path));
                Assert.Equal([path], FilePaths.Validate([path])!.Paths);
            }
        }

        [Fact]
        public void ASegmentIsMeasuredInUtf8Bytes()
        {
            Assert.Null(FilePaths.CheckPortable(new string('a', 255)));
            Assert.Null(FilePaths.CheckPortable(new string('\u00E9', 127)));
            Assert.NotNull(FilePaths.CheckPortable(new string('\u00E9', 128)));
            Assert.NotNull(FilePaths.CheckPortable(new string('\u6A21', 86)));
        }

        [Fact]
        public void NormalizeComposesDecomposedNamesAndLeavesInvalidOnesAlone()
        {
            Assert.Equal("caf\u00E9", FilePaths.Normalize("cafe\u0301"));
            Assert.Equal("K", FilePaths.Normalize("\u212A"));
            Assert.Equal("\uD55C", FilePaths.Normalize("\u1112\u1161\u11AB"));
            Assert.Equal("x\uD800", FilePaths.Normalize("x\uD800"));
        }

        /// <summary>
        /// Berth's own normaliser (the server runs without ICU, where string.Normalize does nothing) against CPython's, on
        /// every character that decomposes and on generated strings that compose, reorder and mix Hangul.
        /// </summary>
        [Fact]
        public void TheNormaliserAgreesWithAnIndependentImplementation()
        {
            var path = Path.Combine(AppContext.BaseDirectory, "Naming", "normalization-vectors.txt");
            var checkedLines = 0;
            foreach (var line in File.ReadLines(path).Where(l => !l.StartsWith('#')))
            {
                var fields = line.Split(';').Select(Decode).ToArray();
                Assert.True(fields[1] == UnicodeNormalization.ToNfc(fields[0]), "NFC of " + line);
                Assert.True(fields[2] == UnicodeNormalization.ToNfd(fields[0]), "NFD of " + line);
                Assert.Equal(fields[0] == fields[1], UnicodeNormalization.IsNfc(fields[0]));
                checkedLines++;
            }

            Assert.True(checkedLines > 3000);
        }

        private static string Decode(string hex) =>
            string.Concat(hex.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(h => char.ConvertFromUtf32(int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))));

        [Fact]
        public void AProblemListsAtMostAHundredPaths()
        {
            var problem = FilePaths.Validate(Enumerable.Range(0, 500).Select(i => $"bad{i}."));
            Assert.NotNull(problem);
            Assert.Equal(FilePaths.MaxListedPaths, problem.Paths.Count);
        }
    }

    public sealed class Properties
    {
        [Fact]
        public void CheckingNeverThrowsWhateverTheInput()
        {
            var random = new Random(1);
            for (var i = 0; i < Rounds; i++)
            {
                var path = random.Next(3) == 0 ? RandomUtf16(random) : RandomPath(random);
                _ = FilePaths.Check(path);
                _ = FilePaths.CheckPortable(path);
                _ = FilePaths.Validate([path, FilePaths.Normalize(path), path.ToUpperInvariant()]);
                _ = FilePaths.Normalize(path);
            }
        }

        [Fact]
        public void EveryAcceptedPathIsSafeInNfcAndKeptAsItIsByWindows()
        {
            var random = new Random(2);
            var accepted = 0;
            for (var i = 0; i < Rounds; i++)
            {
                var path = RandomPath(random);
                if (FilePaths.CheckPortable(path) is not null)
                {
                    continue;
                }

                accepted++;
                Assert.Null(FilePaths.Check(path));
                Assert.True(UnicodeNormalization.IsNfc(path), Show(path));
                foreach (var segment in path.Split('/'))
                {
                    Assert.Equal(segment, WindowsName(segment));
                    Assert.False(IsWindowsDevice(segment), Show(path));
                    Assert.True(Encoding.UTF8.GetByteCount(segment) <= 255, Show(path));
                    Assert.DoesNotContain(segment, c => c < 0x20 || "<>:\"|?*\\".Contains(c, StringComparison.Ordinal)
                        || CharUnicodeInfo.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator);
                }
            }

            Assert.True(accepted > Rounds / 20, $"only {accepted} generated paths were valid: the generator tests too little");
        }

        [Fact]
        public void AnAcceptedSetMaterialisesAsDistinctFilesOnModelsOfLinuxMacOsAndWindows()
        {
            var random = new Random(3);
            var acceptedSets = 0;
            for (var i = 0; i < Rounds / 4; i++)
            {
                var paths = Enumerable.Range(0, random.Next(2, 8)).Select(_ => RandomPath(random, maxSegments: 2)).Distinct(StringComparer.Ordinal).ToList();
                if (FilePaths.Validate(paths) is not null)
                {
                    continue;
                }

                acceptedSets++;
                foreach (var fileSystem in new Func<string, string>[] { Linux, MacOs, Windows })
                {
                    var names = paths.Select(fileSystem).ToList();
                    Assert.True(names.Distinct(StringComparer.Ordinal).Count() == paths.Count, "collide: " + string.Join(", ", paths.Select(Show)));
                    var files = names.ToHashSet(StringComparer.Ordinal);
                    foreach (var name in names)
                    {
                        for (var slash = name.IndexOf('/', StringComparison.Ordinal); slash > 0; slash = name.IndexOf('/', slash + 1))
                        {
                            Assert.False(files.Contains(name[..slash]), "file and folder: " + string.Join(", ", paths.Select(Show)));
                        }
                    }
                }
            }

            Assert.True(acceptedSets > 100, $"only {acceptedSets} generated sets were valid");
        }

        [Fact]
        public void APathAndAnyVariantAFileSystemWouldConfuseItWithAreNeverAcceptedTogether()
        {
            Func<string, string>[] variants =
            [
                p => p.ToUpperInvariant(),
                p => p.ToLowerInvariant(),
                UnicodeNormalization.ToNfd,
                p => p.Replace("k", "\u212A", StringComparison.Ordinal).Replace("K", "\u212A", StringComparison.Ordinal),
                p => p.Replace("\u00DF", "ss", StringComparison.Ordinal).Replace("ss", "SS", StringComparison.Ordinal),
                p => p.Replace("ss", "\u00DF", StringComparison.Ordinal),
                p => p.Replace("\u03C3", "\u03C2", StringComparison.Ordinal),
                p => p.Replace("s", "\u017F", StringComparison.Ordinal),
                p => p + ".",
                p => p + " ",
                p => string.Join('/', p.Split('/').Select(s => s + ".")),
            ];
            var random = new Random(4);
            var compared = 0;
            for (var i = 0; i < Rounds; i++)
            {
                var path = RandomPath(random);
                if (FilePaths.CheckPortable(path) is not null)
                {
                    continue;
                }

                foreach (var variant in variants)
                {
                    var other = variant(path);
                    if (other != path && Windows(other) == Windows(path) || other != path && MacOs(other) == MacOs(path))
                    {
                        compared++;
                        Assert.NotNull(FilePaths.Validate([path, other]));
                    }
                }
            }

            Assert.True(compared > 1000, $"only {compared} confusable pairs were generated");
        }

        [Fact]
        public void EveryWindowsDeviceNameIsRefusedInAnyCaseWithAnyExtension()
        {
            var random = new Random(5);
            for (var i = 0; i < Rounds / 4; i++)
            {
                var stem = RandomCase(random, ReservedStems[random.Next(ReservedStems.Length)]);
                var name = stem + (random.Next(3) switch { 0 => "", 1 => "." + RandomCase(random, "txt"), _ => " ." + RandomCase(random, "tar.gz") });
                var path = random.Next(2) == 0 ? name : "dir/" + name;
                Assert.NotNull(FilePaths.CheckPortable(path));
            }
        }

        [Fact]
        public void TheVerdictDoesNotDependOnTheOrderOfThePaths()
        {
            var random = new Random(6);
            for (var i = 0; i < Rounds / 4; i++)
            {
                var paths = Enumerable.Range(0, random.Next(1, 6)).Select(_ => RandomPath(random, maxSegments: 2)).ToList();
                var shuffled = paths.OrderBy(_ => random.Next()).ToList();
                Assert.Equal(FilePaths.Validate(paths) is null, FilePaths.Validate(shuffled) is null);
            }
        }

        [Fact]
        public void NormalizingANameTwiceChangesNothing()
        {
            var random = new Random(7);
            for (var i = 0; i < Rounds; i++)
            {
                var name = RandomPath(random, maxSegments: 1);
                var once = FilePaths.Normalize(name);
                Assert.Equal(once, FilePaths.Normalize(once));
            }
        }
    }

    /// <summary>Linux: names are bytes; two paths are the same file only when equal.</summary>
    private static string Linux(string path) => path;

    /// <summary>A model of macOS (APFS, case-insensitive): names compared normalised and case-folded.</summary>
    private static string MacOs(string path) =>
        UnicodeNormalization.ToNfd(string.Concat(UnicodeNormalization.ToNfd(path).EnumerateRunes().Select(r => Rune.ToLowerInvariant(Rune.ToUpperInvariant(r)).ToString())));

    /// <summary>A model of Windows (NTFS through Win32): trailing dots and spaces dropped, compared upper-cased, devices are one thing.</summary>
    private static string Windows(string path) =>
        string.Join('/', path.Split('/').Select(s => IsWindowsDevice(s) ? "\0DEVICE" : WindowsName(s).ToUpperInvariant()));

    private static string WindowsName(string segment) => segment.TrimEnd('.', ' ');

    private static bool IsWindowsDevice(string segment)
    {
        var dot = segment.IndexOf('.', StringComparison.Ordinal);
        var stem = (dot < 0 ? segment : segment[..dot]).TrimEnd(' ');
        return ReservedStems.Contains(stem, StringComparer.OrdinalIgnoreCase) || stem.Equals("COM\u00B3", StringComparison.OrdinalIgnoreCase)
            || stem.Equals("LPT\u00B9", StringComparison.OrdinalIgnoreCase) || stem.Equals("LPT\u00B2", StringComparison.OrdinalIgnoreCase)
            || (stem.Length == 4 && (stem.StartsWith("COM", StringComparison.OrdinalIgnoreCase) || stem.StartsWith("LPT", StringComparison.OrdinalIgnoreCase)) && char.IsAsciiDigit(stem[3]));
    }

    private static string RandomPath(Random random, int maxSegments = 3)
    {
        var segments = Enumerable.Range(0, random.Next(1, maxSegments + 1)).Select(_ =>
        {
            var builder = new StringBuilder();
            var count = random.Next(1, 4);
            for (var i = 0; i < count; i++)
            {
                // Ordinary pieces most of the time, so that many paths are valid and collide in interesting ways.
                builder.Append(random.Next(3) == 0 ? Pieces[random.Next(Pieces.Length)] : Pieces[random.Next(20)]);
            }

            return builder.ToString();
        });
        return string.Join('/', segments);
    }

    private static string RandomUtf16(Random random)
    {
        var chars = new char[random.Next(0, 40)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = (char)(random.Next(4) == 0 ? random.Next(0xD700, 0xE000) : random.Next(0, 0x3000));
        }

        return new string(chars);
    }

    private static string RandomCase(Random random, string text) =>
        string.Concat(text.Select(c => random.Next(2) == 0 ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c)));

    private static string Show(string path) =>
        string.Concat(path.Select(c => c is < ' ' or > '~' ? $"\\u{(int)c:X4}" : c.ToString()));
}
