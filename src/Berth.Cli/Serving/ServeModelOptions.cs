namespace Berth.Cli.Serving;

/// <summary>What <c>berth serve-model</c> was asked to do (its command-line options, checked).</summary>
internal sealed record ServeModelOptions
{
    public const int DefaultPort = 8080;
    public const long DefaultMaxRequestBytes = 64L * 1024 * 1024;

    public string Host { get; init; } = "127.0.0.1";
    public int Port { get; init; } = DefaultPort;

    /// <summary>ONNX Runtime's intra-op threads; 0 lets it choose (one per physical core).</summary>
    public int Threads { get; init; }

    /// <summary>The largest first dimension a request may have; null: no limit.</summary>
    public long? MaxBatch { get; init; }

    public long MaxRequestBytes { get; init; } = DefaultMaxRequestBytes;

    /// <summary>The file to serve (a path in the version); null: its one *.onnx file.</summary>
    public string? File { get; init; }

    public bool Watch { get; init; }

    /// <summary>Where to record the deployment; null: not recorded.</summary>
    public string? Environment { get; init; }

    /// <summary>The address recorded with the deployment (where clients reach this process).</summary>
    public string? Endpoint { get; init; }

    public required string CacheDirectory { get; init; }
}
