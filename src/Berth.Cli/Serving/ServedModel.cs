using Microsoft.ML.OnnxRuntime;

namespace Berth.Cli.Serving;

/// <summary>
/// One loaded version: its ONNX Runtime session and signature, and who uses it. The <see cref="ModelHost"/> holds one
/// reference; each request holds another while it runs (<see cref="TryAcquire"/>/<see cref="Release"/>), so a version
/// replaced by a newer one is disposed only after the requests still running on it have finished.
/// </summary>
internal sealed class ServedModel : IDisposable
{
    private readonly InferenceSession _session;
    private int _references = 1;

    public ServedModel(ServedVersion version, InferenceSession session, IReadOnlyList<TensorSpec> inputs, IReadOnlyList<TensorSpec> outputs)
    {
        Version = version;
        _session = session;
        Inputs = inputs;
        Outputs = outputs;
        VersionText = version.Number.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public ServedVersion Version { get; }

    /// <summary>The version number as the protocol's <c>model_version</c>.</summary>
    public string VersionText { get; }

    public IReadOnlyList<TensorSpec> Inputs { get; }

    public IReadOnlyList<TensorSpec> Outputs { get; }

    public InferenceSession Session => _session;

    /// <summary>Takes a reference for one request; false once the model has been released by its host and every request.</summary>
    public bool TryAcquire()
    {
        var current = Volatile.Read(ref _references);
        while (current > 0)
        {
            var seen = Interlocked.CompareExchange(ref _references, current + 1, current);
            if (seen == current)
            {
                return true;
            }

            current = seen;
        }

        return false;
    }

    /// <summary>Gives a reference back; the last one disposes the session.</summary>
    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _session.Dispose();
        }
    }

    /// <summary>Releases the host's reference (the session goes when the last request using it ends).</summary>
    public void Dispose() => Release();
}
