namespace Berth.Core.Blobs;

/// <summary>
/// The blob store could not do what was asked (unreachable, refusing the credentials, missing bucket …).
/// The message says which store and operation failed and why, and never contains a secret.
/// </summary>
public sealed class BlobStoreException(string message, Exception? innerException = null) : Exception(message, innerException);
