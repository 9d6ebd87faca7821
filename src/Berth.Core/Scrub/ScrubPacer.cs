namespace Berth.Core.Scrub;

/// <summary>
/// Keeps a scrub's reading at or below a rate: after each chunk it checks whether the bytes read so far could have been
/// read at that rate since the start, and sleeps off the difference once it is worth a sleep (10 ms or more; smaller
/// debts carry over to the next chunk). Bursts are never more than about one chunk.
/// </summary>
internal sealed class ScrubPacer(long bytesPerSecond, TimeProvider clock)
{
    private static readonly TimeSpan Smallest = TimeSpan.FromMilliseconds(10);
    private readonly long _start = clock.GetTimestamp();
    private long _bytes;

    public async ValueTask ReadAsync(int bytes, CancellationToken cancellationToken)
    {
        _bytes += bytes;
        var due = TimeSpan.FromSeconds((double)_bytes / bytesPerSecond);
        var wait = due - clock.GetElapsedTime(_start);
        if (wait >= Smallest)
        {
            await Task.Delay(wait, clock, cancellationToken);
        }
    }
}
