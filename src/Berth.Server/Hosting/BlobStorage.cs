using Berth.Core.Blobs;
using Berth.Storage.S3;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Server.Hosting;

/// <summary>
/// The blob store the server runs on, chosen once at start-up from <c>--blobs</c> (<c>BERTH_BLOBS</c>): unset, a
/// folder in the data folder; a path, that folder; <c>s3://bucket/prefix?…</c>, an S3-compatible bucket. The only
/// place that knows the backends.
/// </summary>
internal sealed class BlobStorage
{
    private const string Setting = "--blobs (BERTH_BLOBS)";

    private BlobStorage(string? folder, S3BlobStoreOptions? s3)
    {
        Folder = folder;
        S3 = s3;
    }

    /// <summary>The folder of the filesystem store, or null on S3.</summary>
    public string? Folder { get; }

    public S3BlobStoreOptions? S3 { get; }

    /// <summary>For logs and messages: the backend and where it is, never a credential.</summary>
    public string Description => S3 is { } s3 ? s3.Description : $"folder {Folder}";

    /// <exception cref="StartupException">The <c>--blobs</c> value is malformed; the message says which part.</exception>
    public static BlobStorage FromConfiguration(IConfiguration configuration, string dataDirectory)
    {
        var value = configuration[ServerSettings.BlobsKey];
        if (string.IsNullOrWhiteSpace(value))
        {
            return new BlobStorage(Path.Combine(dataDirectory, "store"), null);
        }

        if (S3BlobsSetting.IsS3(value))
        {
            try
            {
                return new BlobStorage(null, S3BlobsSetting.Parse(value));
            }
            catch (FormatException e)
            {
                throw new StartupException($"{Setting} is not a usable S3 location: {e.Message}. Expected the form " +
                    "\"s3://models-bucket/berth?endpoint=http://s3.internal:9000&region=us-east-1&path-style=true\" (see docs/storage-layout.md).");
            }
        }

        if (Uri.TryCreate(value, UriKind.Absolute, out var uri) && uri.IsFile)
        {
            return new BlobStorage(uri.LocalPath, null);
        }

        if (value.Contains("://", StringComparison.Ordinal) || !Path.IsPathFullyQualified(value))
        {
            throw new StartupException($"{Setting} must be s3://<bucket>[/<prefix>][?…] or an absolute folder path, not '{value.Split('?')[0]}'.");
        }

        return new BlobStorage(value, null);
    }

    public void Register(IServiceCollection services)
    {
        if (S3 is { } s3)
        {
            services.AddSingleton(new S3BlobStore(s3));
            services.AddSingleton<IBlobStore>(sp => sp.GetRequiredService<S3BlobStore>());
        }
        else
        {
            services.AddSingleton<IBlobStore, FileSystemBlobStore>();
        }
    }

    /// <summary>Checks that the store can be used (S3: the bucket exists and the credentials may list it).</summary>
    /// <exception cref="StartupException">The store cannot be reached or refuses the credentials.</exception>
    public async Task CheckAsync(IServiceProvider services, CancellationToken cancellationToken)
    {
        if (S3 is null)
        {
            return;
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            await services.GetRequiredService<S3BlobStore>().CheckAsync(timeout.Token);
        }
        catch (BlobStoreException e)
        {
            throw new StartupException($"{Setting}: {e.Message}", e);
        }
        catch (OperationCanceledException e) when (!cancellationToken.IsCancellationRequested)
        {
            throw new StartupException($"{Setting}: {Description} did not answer within 30 s.", e);
        }
    }
}
