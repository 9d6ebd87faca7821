namespace Berth.Cli.Infrastructure;

/// <summary>The command line is wrong (exit code 2). The message names the rule that was broken.</summary>
internal sealed class UsageException(string message) : CliException(message, ExitCodes.Usage);
