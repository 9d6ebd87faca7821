namespace Berth.Api.Tests.Support;

/// <summary>Waiting for what a background worker (webhook deliveries, say) does after a request has answered.</summary>
public static class Eventually
{
    /// <summary>
    /// Reads until <paramref name="condition"/> holds and returns that value; fails naming <paramref name="what"/> after 30 s.
    /// Polls every 25 ms: the condition is checked, not slept on.
    /// </summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T>> read, Func<T, bool> condition, string what = "The webhook worker")
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var value = await read();
            if (condition(value))
            {
                return value;
            }

            Assert.True(DateTime.UtcNow < deadline, $"{what} did not reach the expected state within 30 s.");
            await Task.Delay(25, TestContext.Current.CancellationToken);
        }
    }
}
