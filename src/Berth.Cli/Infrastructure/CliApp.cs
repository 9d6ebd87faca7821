using System.CommandLine;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// What every command shares: the global <c>--json</c> option, and the wrapper that gives an action
/// its <see cref="CliContext"/> and turns failures into messages and exit codes.
/// </summary>
internal sealed class CliApp
{
    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Write machine-readable JSON to stdout (the API's records; arrays for lists, one object per line for event streams and audit exports).",
        Recursive = true,
    };

    /// <summary>Sets <paramref name="action"/> as the command's action; it returns the exit code.</summary>
    public void SetAction(Command command, Func<CliContext, ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction(async (parse, cancellationToken) =>
        {
            using var context = new CliContext(new Output(parse.GetValue(Json)));
            try
            {
                return await action(context, parse, cancellationToken);
            }
            catch (Exception e)
            {
                return ErrorReporter.Report(e, SafeServer(context), SafeMissingToken(context), cancellationToken);
            }
        });

    private static (string Reason, string Fix)? SafeMissingToken(CliContext context)
    {
        try
        {
            return context.MissingToken();
        }
        catch (Exception e) when (e is CliException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? SafeServer(CliContext context)
    {
        try
        {
            return context.Server;
        }
        catch (Exception e) when (e is CliException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
