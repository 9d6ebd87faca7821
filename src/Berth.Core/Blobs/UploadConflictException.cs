namespace Berth.Core.Blobs;

/// <summary>The upload is being written by another request, or the write does not start at its end.</summary>
public sealed class UploadConflictException(UploadId id, long currentLength, bool busy)
    : Exception(busy
        ? $"Upload {id} is being written by another request."
        : $"Upload {id} holds {currentLength} bytes; a write must start there.")
{
    public UploadId Id { get; } = id;
    public long CurrentLength { get; } = currentLength;
    public bool Busy { get; } = busy;
}
