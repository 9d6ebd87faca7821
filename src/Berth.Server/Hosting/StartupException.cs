namespace Berth.Server.Hosting;

/// <summary>The server cannot start as configured. The message names the setting and says what is wrong with it.</summary>
public sealed class StartupException(string message, Exception? innerException = null) : Exception(message, innerException);
