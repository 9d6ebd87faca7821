namespace Berth.Core.Insight;

/// <summary>A file is not what its first bytes promised: truncated, corrupt, or past a limit. The message is the reason shown to users.</summary>
public sealed class InsightFormatException : Exception
{
    public InsightFormatException()
    {
    }

    public InsightFormatException(string message)
        : base(message)
    {
    }

    public InsightFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
