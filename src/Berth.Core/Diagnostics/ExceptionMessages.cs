namespace Berth.Core.Diagnostics;

public static class ExceptionMessages
{
    /// <summary>The messages of an exception and its causes, each once ("Failed to connect to …: Connection refused").</summary>
    public static string Chain(Exception exception)
    {
        var messages = new List<string>();
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            var message = e.Message.Trim().TrimEnd('.');
            if (message.Length > 0 && !messages.Any(m => m.Contains(message, StringComparison.Ordinal)))
            {
                messages.Add(message);
            }
        }

        return string.Join(": ", messages);
    }
}
