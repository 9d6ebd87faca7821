namespace Berth.Client.Transfers;

public enum TransferPhase
{
    Hashing,
    Uploading,
    Committing,
    Downloading,
    Done,
}

/// <summary>A snapshot of a push or pull: bytes and files done out of the totals of the current phase.</summary>
public sealed record TransferProgress(TransferPhase Phase, long BytesDone, long BytesTotal, int FilesDone, int FilesTotal);
