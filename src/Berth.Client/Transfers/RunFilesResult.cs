using Berth.Contracts.Dtos;

namespace Berth.Client.Transfers;

/// <summary>
/// What uploading files to a run did: every file of the run afterwards (<see cref="Files"/>), how many files and bytes
/// were sent, and how many had to be uploaded (the rest the server had: an unchanged folder uploads nothing).
/// </summary>
public sealed record RunFilesResult(IReadOnlyList<RunFileInfo> Files, int FilesTotal, long BytesTotal, int FilesUploaded, long BytesUploaded, TimeSpan Elapsed);
