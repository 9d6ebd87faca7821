using Spectre.Console;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// Reads passwords: with <c>--password-stdin</c> one per line of stdin (for scripts and tests), otherwise
/// by asking on the terminal without echo. Never from an option, where shell history and process lists
/// would keep them.
/// </summary>
internal sealed class PasswordInput(Output output, bool fromStdin)
{
    private int _line;

    /// <summary>Whether passwords come from stdin rather than prompts.</summary>
    public bool FromStdin { get; } = fromStdin;

    /// <summary>The next password: the next line of stdin, or the answer to <paramref name="prompt"/>.</summary>
    /// <param name="what">What the password is, for errors ("the current password").</param>
    public async Task<string> ReadAsync(string prompt, string what, CancellationToken cancellationToken)
    {
        if (FromStdin)
        {
            _line++;
            var line = await Console.In.ReadLineAsync(cancellationToken);
            return string.IsNullOrEmpty(line)
                ? throw new UsageException($"--password-stdin: expected {what} on line {_line} of stdin, found {(line is null ? "the end of the input" : "an empty line")}.")
                : line;
        }

        EnsureTerminal();
        return await new TextPrompt<string>(prompt).Secret().ShowAsync(output.ErrorConsole, cancellationToken);
    }

    /// <summary>A new password: the next line of stdin, or asked twice on the terminal (the answers must match).</summary>
    public async Task<string> ReadNewAsync(string prompt, string what, CancellationToken cancellationToken)
    {
        var password = await ReadAsync(prompt, what, cancellationToken);
        if (!FromStdin && await ReadAsync("Repeat it:", what, cancellationToken) != password)
        {
            throw new CliException("The two new passwords differ; nothing was changed.");
        }

        return password;
    }

    /// <summary>Says something to the person at the terminal (nothing when reading stdin: scripts keep a clean stderr).</summary>
    public void Tell(string message)
    {
        if (!FromStdin)
        {
            Console.Error.WriteLine(message);
        }
    }

    private static void EnsureTerminal()
    {
        if (Console.IsInputRedirected || !Output.StderrIsTerminal)
        {
            throw new UsageException("There is no terminal to ask for a password on: pass passwords on stdin, one per line, with --password-stdin.");
        }
    }
}
