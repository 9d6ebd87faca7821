using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Berth.Server.Api.Auth;

/// <summary>
/// Logs refused credentials (a bad, expired or revoked token) at most once per reason every <see cref="Interval"/>,
/// with the number of refusals for that reason that were not logged since the previous line. Anyone can send bad
/// tokens as fast as the network allows; one line each would let them fill the disk and bury everything else
/// (and the rate limiter answers the flood itself). Never logs the token.
/// </summary>
internal sealed partial class AuthenticationFailureLog(TimeProvider clock, ILogger<AuthenticationFailureLog> logger)
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(60);

    // One entry per error code: a handful at most.
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    public void Refused(string code, string reason, string? clientAddress)
    {
        var window = _windows.GetOrAdd(code, static _ => new Window());
        long suppressed;
        lock (window)
        {
            var now = clock.GetUtcNow();
            if (window.LoggedAt is { } last && now - last < Interval)
            {
                window.Suppressed++;
                return;
            }

            suppressed = window.Suppressed;
            window.Suppressed = 0;
            window.LoggedAt = now;
        }

        if (suppressed == 0)
        {
            LogRefused(logger, code, reason, clientAddress ?? "unknown", (int)Interval.TotalSeconds);
        }
        else
        {
            LogRefusedAgain(logger, code, reason, clientAddress ?? "unknown", suppressed, (int)Interval.TotalSeconds);
        }
    }

    [LoggerMessage(EventId = 4004, Level = LogLevel.Information,
        Message = "Refused credentials ({Code}: {Reason}) from {ClientAddress} (further refusals for this reason are logged at most once every {IntervalSeconds} s)")]
    private static partial void LogRefused(ILogger logger, string code, string reason, string clientAddress, int intervalSeconds);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Information,
        Message = "Refused credentials ({Code}: {Reason}) from {ClientAddress}; {Suppressed} more refusals for this reason since the last such line were not logged (one line per reason every {IntervalSeconds} s)")]
    private static partial void LogRefusedAgain(ILogger logger, string code, string reason, string clientAddress, long suppressed, int intervalSeconds);

    private sealed class Window
    {
        public DateTimeOffset? LoggedAt { get; set; }

        public long Suppressed { get; set; }
    }
}
