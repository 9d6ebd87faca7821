namespace Berth.Core.Blobs;

public enum BlobPutResult
{
    /// <summary>The bytes were moved into place under their digest.</summary>
    Created,

    /// <summary>The store already had these bytes; the upload data was discarded.</summary>
    AlreadyExists,
}
