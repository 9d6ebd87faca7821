namespace Berth.Core.Data.Entities;

/// <summary>
/// Failed password checks counted under one key: a client address and an account (<c>p:</c>), an address
/// across accounts (<c>a:</c>) or an account across addresses (<c>u:</c>). See <c>SignInThrottler</c>.
/// </summary>
public sealed class SignInThrottle
{
    public const int MaxKeyLength = 160;

    public required string Key { get; set; }

    /// <summary>Failures since the counter last started from zero (it does after a quiet period).</summary>
    public int Failures { get; set; }

    public DateTime? LastFailureAt { get; set; }

    /// <summary>No attempt under this key is checked before this time.</summary>
    public DateTime? BlockedUntil { get; set; }

    /// <summary>The last correct password from this address for this account (pair rows only).</summary>
    public DateTime? LastSuccessAt { get; set; }
}
