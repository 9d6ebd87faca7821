using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Auth;

/// <summary>
/// How password checks (sign-in, password change) are throttled (section <c>SignIn</c>; environment variables
/// <c>BERTH_SignIn__…</c>). Failures are counted per client address and account, per address across accounts and
/// per account across addresses; past each count's free failures every further failure makes the next attempt
/// under that count wait, twice as long each time, from <see cref="FirstDelay"/> up to <see cref="MaxDelay"/>.
/// See docs/governance.md.
/// </summary>
public sealed class SignInOptions
{
    public const string SectionName = "SignIn";

    /// <summary>Failures from one address for one account before attempts must wait.</summary>
    [Range(1, 1000)]
    public int FreeFailures { get; set; } = 5;

    /// <summary>Failures from one address across all accounts (password spraying) before attempts must wait.</summary>
    [Range(1, 100_000)]
    public int AddressFreeFailures { get; set; } = 20;

    /// <summary>Failures for one account across all addresses (distributed guessing) before attempts must wait.</summary>
    [Range(1, 1_000_000)]
    public int AccountFreeFailures { get; set; } = 100;

    /// <summary>The wait after the first failure past the free ones; it doubles with each further failure.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan FirstDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan MaxDelay { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>A count with no failure for this long starts again from zero (and its row is removed).</summary>
    [Range(typeof(TimeSpan), "00:01:00", "30.00:00:00")]
    public TimeSpan FailureWindow { get; set; } = TimeSpan.FromHours(1);

    /// <summary>
    /// An address where an account signed in successfully within this time is exempt from that account's
    /// across-addresses and that address's across-accounts counts (never from its own), so an attacker elsewhere
    /// cannot keep the real user out. Zero turns the exemption off.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "365.00:00:00")]
    public TimeSpan KnownAddressTrust { get; set; } = TimeSpan.FromDays(30);
}
