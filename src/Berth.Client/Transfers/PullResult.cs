using Berth.Contracts.Dtos;

namespace Berth.Client.Transfers;

public sealed record PullResult(VersionInfo Version, string Directory, int FilesDownloaded, int FilesUnchanged, long BytesDownloaded, TimeSpan Elapsed);
