namespace Berth.Cli.Serving;

/// <summary>
/// The version being served, swapped atomically: <see cref="Swap"/> publishes a loaded model in one write, so a request
/// runs wholly on the old version or wholly on the new one; the old session is disposed once the requests still using
/// it end. Null until the first version has loaded (the server is live but not ready).
/// </summary>
internal sealed class ModelHost : IDisposable
{
    private ServedModel? _current;

    public ServedModel? Current => Volatile.Read(ref _current);

    public bool IsReady => Current is not null;

    /// <summary>The model for one request, with a reference the caller releases; null when none is loaded.</summary>
    public ServedModel? Acquire()
    {
        while (true)
        {
            var model = Current;
            if (model is null)
            {
                return null;
            }

            if (model.TryAcquire())
            {
                return model;
            }

            // Swapped out and drained between the read and the acquire: the next read sees its successor.
        }
    }

    /// <summary>Serves <paramref name="model"/> from now on; returns the one it replaced (already released by the host).</summary>
    public ServedModel? Swap(ServedModel model)
    {
        var previous = Interlocked.Exchange(ref _current, model);
        previous?.Release();
        return previous;
    }

    public void Dispose() => Interlocked.Exchange(ref _current, null)?.Release();
}
