namespace Berth.Cli.Infrastructure;

/// <summary>An expected failure: its message is printed as <c>error: …</c>, without a stack trace, and its hint (if any) as <c>hint: …</c>.</summary>
internal class CliException(string message, int exitCode = ExitCodes.Failure, string? hint = null) : Exception(message)
{
    public int ExitCode { get; } = exitCode;

    public string? Hint { get; } = hint;
}
