using System.Net.Http;
using System.Net.Sockets;
using System.Text.Json;
using Berth.Client;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// Turns a failure into one line on stderr and an exit code: the server's message and error code for
/// problems (<c>error: Model 'acme/nope' does not exist. (model_not_found)</c>), a plain sentence for
/// network and file failures. Stack traces only with <c>BERTH_DEBUG=1</c>.
/// </summary>
internal static class ErrorReporter
{
    public const string DebugVariable = "BERTH_DEBUG";

    /// <param name="missingToken">When the command sent no token: why, and how to fix it (explains a <c>token_missing</c> answer).</param>
    public static int Report(Exception exception, string? server, (string Reason, string Fix)? missingToken, CancellationToken cancellationToken)
    {
        var exitCode = Describe(exception, server, missingToken, cancellationToken, out var message, out var hint);
        Output.Error(message);
        if (hint is not null)
        {
            Output.Hint(hint);
        }

        if (CliPaths.Variable(DebugVariable) is "1" or "true")
        {
            Console.Error.WriteLine(exception);
        }

        return exitCode;
    }

    private static int Describe(Exception exception, string? server, (string Reason, string Fix)? missingToken, CancellationToken cancellationToken, out string message, out string? hint)
    {
        hint = null;
        switch (exception)
        {
            case CliException e:
                message = e.Message;
                hint = e.Hint;
                return e.ExitCode;

            case BerthProblemException { Code: "token_missing" } e when missingToken is { } missing:
                // The server's text ("create one with 'berth token create'") assumes a token exists somewhere; say why none was sent.
                message = $"{missing.Reason} The server requires one. ({e.Code})";
                hint = missing.Fix;
                return ExitCodes.Failure;

            case BerthProblemException e:
                message = $"{e.Message.TrimEnd()} ({e.Code})";
                hint = e.Code switch
                {
                    "token_missing" or "token_invalid" or "token_expired" or "token_revoked" or "token_malformed" =>
                        $"log in with 'berth login <server url> --user <name>' or '--token <token>', or set {CliContext.TokenVariable}.",
                    "user_disabled" => "a server administrator can enable the user again with 'berth user enable <name>'.",
                    "forbidden" => "your token lacks the permission or scope for this; 'berth whoami' shows who you are.",
                    "insufficient_storage" => "the server's disk is full. Once its operator has freed space, run the command again (a push resumes where it stopped).",
                    _ => null,
                };
                return ExitCodes.Failure;

            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                message = "Cancelled.";
                return ExitCodes.Cancelled;

            case HttpRequestException e:
                message = Unreachable(e, server);
                hint = e.HttpRequestError is HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError
                    ? $"is the server running? The address comes from 'berth login' or {CliContext.UrlVariable}."
                    : null;
                return ExitCodes.Failure;

            case TimeoutException e:
                message = $"The server at {server} did not answer in time: {e.Message}";
                return ExitCodes.Failure;

            case JsonException e:
                message = $"The server at {server} did not answer like a Berth server ({e.Message}).";
                return ExitCodes.Failure;

            case FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException or IOException or InvalidDataException:
                message = exception.Message;
                return ExitCodes.Failure;

            default:
                message = $"{exception.Message} ({exception.GetType().Name})";
                hint = $"this looks like a bug in berth; run again with {DebugVariable}=1 for details.";
                return ExitCodes.Failure;
        }
    }

    private static string Unreachable(HttpRequestException e, string? server)
    {
        var reason = e.InnerException is SocketException socket ? socket.Message : e.Message;
        return e.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => $"Cannot resolve the host of the Berth server {server}: {reason}",
            HttpRequestError.SecureConnectionError => $"Cannot open a TLS connection to the Berth server at {server}: {reason}",
            HttpRequestError.ConnectionError => $"Cannot reach the Berth server at {server}: {reason}",
            _ => $"The request to the Berth server at {server} failed: {reason}",
        };
    }
}
