namespace Berth.Client.Transfers;

/// <summary>A file to push: its path inside the version ('/'-separated) and where it is on disk.</summary>
public sealed record LocalFile(string Path, string FullPath, long Size, DateTime LastWriteUtc);
