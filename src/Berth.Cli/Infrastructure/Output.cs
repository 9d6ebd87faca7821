using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Win32.SafeHandles;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// Where a command writes. Results go to stdout: JSON with <c>--json</c>, else text that uses Spectre
/// tables and colours on a terminal and plain aligned columns (no ANSI codes) when redirected.
/// Errors, warnings and progress go to stderr; progress only when stderr is a terminal and not --json.
/// </summary>
internal sealed class Output(bool json)
{
    private IAnsiConsole? _console;
    private IAnsiConsole? _errorConsole;

    public bool Json { get; } = json;

    public static bool StdoutIsTerminal => !Console.IsOutputRedirected;

    public static bool StderrIsTerminal => !Console.IsErrorRedirected && !string.Equals(Environment.GetEnvironmentVariable("TERM"), "dumb", StringComparison.Ordinal);

    /// <summary>Show progress bars: a person is watching stderr and stdout is not meant for a program.</summary>
    public bool ShowProgress => !Json && StderrIsTerminal;

    /// <summary>The Spectre console on stderr (progress bars).</summary>
    public IAnsiConsole ErrorConsole => _errorConsole ??= AnsiConsole.Create(new AnsiConsoleSettings
    {
        Out = new AnsiConsoleOutput(Console.Error),
        Ansi = AnsiSupport.Yes,
        Interactive = InteractionSupport.Yes,
    });

    private IAnsiConsole StdoutConsole => _console ??= AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });

    public void WriteJson<T>(T value, JsonTypeInfo<T> type) => Console.Out.WriteLine(JsonSerializer.Serialize(value, type));

    public void Line(string text = "") => Console.Out.WriteLine(text);

    /// <summary>
    /// Stdout for output that does not end by itself (<c>berth events --follow</c>): each line is flushed as it is
    /// written, and once the reader has gone (<c>| head -n 3</c>) writing throws <see cref="IOException"/>, where
    /// <see cref="Console.Out"/> would carry on silently (it ignores a broken pipe).
    /// </summary>
    public static TextWriter OpenLineWriter()
    {
        Console.Out.Flush();
        var stream = OperatingSystem.IsWindows()
            ? Console.OpenStandardOutput()
            : new FileStream(new SafeFileHandle(1, ownsHandle: false), FileAccess.Write, bufferSize: 0);
        return new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false)) { AutoFlush = true };
    }

    /// <summary>A line that stands out on a terminal (the subject of <c>show</c>, the outcome of a change).</summary>
    public void Title(string text)
    {
        if (StdoutIsTerminal)
        {
            StdoutConsole.MarkupLine($"[bold]{Markup.Escape(text)}[/]");
        }
        else
        {
            Console.Out.WriteLine(text);
        }
    }

    /// <summary>Key/value lines, aligned; null values are left out.</summary>
    public void Fields(IEnumerable<(string Key, string? Value)> fields, int indent = 0)
    {
        var present = fields.Where(f => f.Value is not null).Select(f => (f.Key, Value: f.Value!)).ToList();
        if (present.Count == 0)
        {
            return;
        }

        var width = present.Max(f => f.Key.Length) + 1;
        var pad = new string(' ', indent);
        foreach (var (key, value) in present)
        {
            // Plain lines on a terminal too (only the key is coloured): long digests wrap as the terminal likes.
            var label = (key + ":").PadRight(width);
            var text = value.ReplaceLineEndings("\n").Replace("\n", "\n" + pad + new string(' ', width + 2), StringComparison.Ordinal);
            if (StdoutIsTerminal)
            {
                StdoutConsole.MarkupLine($"{pad}[grey]{Markup.Escape(label)}[/]  {Markup.Escape(text)}");
            }
            else
            {
                Console.Out.WriteLine($"{pad}{label}  {text}");
            }
        }
    }

    /// <summary>A table; plain columns separated by two spaces when stdout is not a terminal.</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, int indent = 0) => Table(headers, rows, null, indent);

    /// <summary>A table whose cells (row, column) in <paramref name="emphasis"/> stand out on a terminal (bold green).</summary>
    public void Table(IReadOnlyList<string> headers, IEnumerable<IReadOnlyList<string>> rows, IReadOnlySet<(int Row, int Column)>? emphasis, int indent = 0)
    {
        var list = rows.Select(r => (IReadOnlyList<string>)r.Select(OneLine).ToList()).ToList();
        if (StdoutIsTerminal)
        {
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var header in headers)
            {
                table.AddColumn(new TableColumn(new Markup($"[bold]{Markup.Escape(header)}[/]")));
            }

            var strong = new Style(Color.Green, decoration: Decoration.Bold);
            for (var r = 0; r < list.Count; r++)
            {
                var index = r;
                table.AddRow(list[r].Select((cell, c) => (IRenderable)(emphasis?.Contains((index, c)) == true ? new Text(cell, strong) : new Text(cell))));
            }

            StdoutConsole.Write(indent > 0 ? new Padder(table, new Padding(indent, 0, 0, 0)) : table);
            return;
        }

        var widths = headers.Select((h, i) => list.Select(r => r[i].Length).Append(h.Length).Max()).ToArray();
        var pad = new string(' ', indent);
        Console.Out.WriteLine(pad + Row(headers, widths));
        foreach (var row in list)
        {
            Console.Out.WriteLine(pad + Row(row, widths));
        }
    }

    public static void Warning(string message) => Console.Error.WriteLine($"warning: {message}");

    public static void Error(string message) => Console.Error.WriteLine($"error: {message}");

    public static void Hint(string message) => Console.Error.WriteLine($"hint: {message}");

    /// <summary>Table cells are single lines: descriptions and values may hold line breaks.</summary>
    private static string OneLine(string cell) => cell.ReplaceLineEndings(" ");

    private static string Row(IReadOnlyList<string> cells, int[] widths) =>
        string.Join("  ", cells.Select((c, i) => i == cells.Count - 1 ? c : c.PadRight(widths[i]))).TrimEnd();
}
