namespace Berth.Server.Hosting;

/// <summary>The server's data folder (database, blob store, admin token).</summary>
public sealed record DataDirectory(string Path);
