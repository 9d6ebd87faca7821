using Berth.Contracts.Naming;

namespace Berth.Core.Blobs;

/// <summary>
/// The on-disk layout of the filesystem store (documented in docs/storage-layout.md):
/// <code>
/// &lt;root&gt;/blobs/sha256/&lt;first two hex&gt;/&lt;64 hex&gt;   the bytes of a blob
/// &lt;root&gt;/uploads/&lt;upload id&gt;/data                   bytes of an upload in progress
/// </code>
/// Only validated digests and generated upload ids become path segments.
/// </summary>
public sealed class BlobPaths(string root)
{
    public string Root { get; } = Path.GetFullPath(root);

    public string BlobsRoot => Path.Combine(Root, "blobs", "sha256");

    public string UploadsRoot => Path.Combine(Root, "uploads");

    public string BlobDirectory(Digest digest) => Path.Combine(BlobsRoot, digest.Hex[..2]);

    public string Blob(Digest digest) => Path.Combine(BlobDirectory(digest), digest.Hex);

    public string UploadDirectory(UploadId id) => Path.Combine(UploadsRoot, id.Value);

    public string UploadData(UploadId id) => Path.Combine(UploadDirectory(id), "data");
}
