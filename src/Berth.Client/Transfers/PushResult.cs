using Berth.Contracts.Dtos;

namespace Berth.Client.Transfers;

/// <summary>What a push did: the ready version, and how much had to be uploaded (the rest the server had).</summary>
public sealed record PushResult(VersionInfo Version, int FilesTotal, long BytesTotal, int FilesUploaded, long BytesUploaded, TimeSpan Elapsed);
