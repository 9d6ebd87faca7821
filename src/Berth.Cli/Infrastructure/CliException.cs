namespace Berth.Cli.Infrastructure;

/// <summary>An expected failure: its message is printed as <c>error: …</c>, without a stack trace.</summary>
internal class CliException(string message, int exitCode = ExitCodes.Failure) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
