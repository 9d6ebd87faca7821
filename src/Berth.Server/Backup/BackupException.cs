namespace Berth.Server.Backup;

/// <summary>A backup or restore that cannot go ahead; the message says why and what to do.</summary>
public sealed class BackupException(string message, Exception? innerException = null) : Exception(message, innerException);
