using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Blobs;
using Berth.Core.Runs;
using Berth.Web.Components.UI;
using Berth.Web.Rendering;
using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Berth.Web.Hosting;

/// <summary>
/// <c>/{ns}/{model}/runs/{id}/files/{path}</c>: a run's image, for the <c>img</c> elements of its page. The API serves
/// every file as an <c>application/octet-stream</c> attachment (users wrote the bytes); this answers only a raster image
/// (<see cref="FilePreview.ImageType"/>) whose bytes carry that format's signature and that is no larger than
/// <see cref="FilePreview.MaxImageBytes"/>, with its image type, inline, in a sandbox without any privilege
/// (<c>default-src 'none'; sandbox</c>). Any other file is redirected to the API's download. Readers of the namespace
/// only, asked of the same <see cref="AccessControl"/> as the API (a namespace the viewer may not see is a 404).
/// </summary>
internal static class RunFileImages
{
    public const string Template = "/{namespace}/{model}/runs/{id}/files/{**path}";

    public static async Task<IResult> ServeAsync(HttpContext context, Viewer viewer, RunFileService files, IBlobStore store, string @namespace, string model, string id, string path)
    {
        var cancellationToken = context.RequestAborted;
        await viewer.DemandAsync(Permission.Read, @namespace, cancellationToken);
        var file = await files.GetFileAsync(@namespace, model, id, path, cancellationToken);
        var type = FilePreview.ImageType(file.Path);
        if (type is null || file.Size > FilePreview.MaxImageBytes)
        {
            return Results.Redirect(Links.RunFileDownload(@namespace, model, id, file.Path));
        }

        var stream = await store.OpenReadAsync(Digest.Parse(file.Digest), 0, cancellationToken);
        var head = new byte[12];
        var read = 0;
        int n;
        while (read < head.Length && (n = await stream.ReadAsync(head.AsMemory(read), cancellationToken)) > 0)
        {
            read += n;
        }

        if (!FilePreview.HasSignature(head.AsSpan(0, read), type))
        {
            await stream.DisposeAsync();
            return Results.Redirect(Links.RunFileDownload(@namespace, model, id, file.Path));
        }

        var headers = context.Response.Headers;
        var disposition = new ContentDispositionHeaderValue("inline");
        disposition.SetHttpFileName(file.Path[(file.Path.LastIndexOf('/') + 1)..]);
        headers.ContentDisposition = disposition.ToString();
        headers.ContentSecurityPolicy = "default-src 'none'; sandbox";
        headers.XContentTypeOptions = "nosniff";
        // Readers only, and a path may be attached again with other bytes: private, and revalidated by its digest.
        headers.CacheControl = "private, no-cache";
        headers.Remove("Pragma");
        return Results.Stream(new PrefixedStream(head.AsMemory(0, read), stream), type, entityTag: new EntityTagHeaderValue($"\"{file.Digest}\""));
    }

    /// <summary>The bytes already read (the signature), then the rest of the blob's stream.</summary>
    private sealed class PrefixedStream(ReadOnlyMemory<byte> prefix, Stream rest) : Stream
    {
        private int _offset;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.Span.Slice(_offset, n).CopyTo(buffer);
                _offset += n;
                return n;
            }

            return rest.Read(buffer);
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            if (_offset < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _offset);
                prefix.Span.Slice(_offset, n).CopyTo(buffer.Span);
                _offset += n;
                return ValueTask.FromResult(n);
            }

            return rest.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rest.Dispose();
            }

            base.Dispose(disposing);
        }

        public override async ValueTask DisposeAsync()
        {
            await rest.DisposeAsync();
            await base.DisposeAsync();
        }
    }
}
