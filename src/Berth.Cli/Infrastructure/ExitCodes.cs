namespace Berth.Cli.Infrastructure;

/// <summary>What <c>berth</c> exits with.</summary>
internal static class ExitCodes
{
    public const int Success = 0;

    /// <summary>The server refused, the network failed, or a local file operation failed.</summary>
    public const int Failure = 1;

    /// <summary>The command line is wrong: unknown option, bad reference, malformed k=v, …</summary>
    public const int Usage = 2;

    /// <summary>Interrupted (Ctrl+C), as shells report SIGINT.</summary>
    public const int Cancelled = 130;
}
