namespace Berth.Core.Events;

/// <summary>
/// Wakes this process's event readers (the webhook worker, event streams) when a transaction with events
/// commits. Other replicas' commits are found by polling; this only makes the local case immediate.
/// </summary>
public sealed class EventNotifier
{
    private TaskCompletionSource _next = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>
    /// Completes at the next commit with events. Take it <em>before</em> reading, then wait on it when the read
    /// found nothing: a commit between the read and the wait is not missed.
    /// </summary>
    public Task Next => Volatile.Read(ref _next).Task;

    public void Pulse() => Interlocked.Exchange(ref _next, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult();

    /// <summary>Waits for <paramref name="signal"/> or <paramref name="timeout"/>, whichever comes first.</summary>
    public static async Task WaitAsync(Task signal, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            await signal.WaitAsync(timeout, cancellationToken);
        }
        catch (TimeoutException)
        {
        }
    }
}
