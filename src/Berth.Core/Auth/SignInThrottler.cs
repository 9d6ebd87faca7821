using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using Berth.Contracts.Errors;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Core.Auth;

/// <summary>
/// Slows down password guessing without ever locking an account: every password check (sign-in, password
/// change) is counted under three keys, in the database so that every replica sees the same counts: the client
/// address and the account, the address across accounts (password spraying) and the account across addresses
/// (distributed guessing). Past a key's free failures (<see cref="SignInOptions"/>), each further failure makes the
/// next attempt under that key wait twice as long, up to a maximum; an attempt that comes too early is answered
/// 429 <c>too_many_attempts</c> with <c>Retry-After</c>, before any password is checked. A correct password resets
/// its own address-and-account count. An address where the account signed in before is exempt from the two wide
/// counts, so a guesser elsewhere cannot keep the real user out. Unknown accounts are counted exactly like real
/// ones, and account names are stored only as hashes.
/// </summary>
public sealed partial class SignInThrottler(RegistryDbContext db, IOptions<SignInOptions> options, TimeProvider clock, ILogger<SignInThrottler> logger)
{
    /// <summary>
    /// Counts an attempt to check a password of <paramref name="account"/> from <paramref name="clientAddress"/>
    /// as a failure until <see cref="SucceededAsync"/> says otherwise, so that attempts sent in parallel cannot
    /// slip past the count. Throws 429 when a count still makes attempts wait.
    /// </summary>
    public async Task<SignInAttempt> BeginAsync(string? clientAddress, string account, CancellationToken cancellationToken)
    {
        var settings = options.Value;
        var address = AddressKey(clientAddress);
        var accountHash = AccountHash(account);
        var keys = new[] { $"p:{address} {accountHash}", $"a:{address}", $"u:{accountHash}" };
        var free = new[] { settings.FreeFailures, settings.AddressFreeFailures, settings.AccountFreeFailures };
        return await db.InTransactionWithRetryAsync(async ct =>
        {
            var now = Microseconds(clock.GetUtcNow().UtcDateTime);
            // Always locked in the same order (pair, address, account), so concurrent attempts never deadlock.
            var rows = new SignInThrottle[keys.Length];
            for (var i = 0; i < keys.Length; i++)
            {
                rows[i] = await db.LockedRow<SignInThrottle>(keys[i]).SingleOrDefaultAsync(ct) ?? db.SignInThrottles.Add(new SignInThrottle { Key = keys[i] }).Entity;
            }

            var trusted = settings.KnownAddressTrust > TimeSpan.Zero && rows[0].LastSuccessAt is { } success && success > now - settings.KnownAddressTrust;
            var until = rows.Take(trusted ? 1 : rows.Length).Max(r => r.BlockedUntil);
            if (until is { } u && u > now)
            {
                throw TooManyAttempts(u - now);
            }

            var before = rows.Select(r => (r.Failures, r.LastFailureAt, r.BlockedUntil)).ToArray();
            var blocked = new DateTime?[rows.Length];
            for (var i = 0; i < rows.Length; i++)
            {
                var row = rows[i];
                if (row.LastFailureAt is not { } last || last <= now - settings.FailureWindow)
                {
                    row.Failures = 0;
                }

                row.Failures++;
                row.LastFailureAt = now;
                if (Delay(row.Failures, free[i], settings) is { } delay)
                {
                    row.BlockedUntil = blocked[i] = Microseconds(now + delay);
                }
            }

            await db.SaveChangesAsync(ct);
            return new SignInAttempt(address, keys, before, blocked, rows.Select(r => r.Failures).ToArray());
        }, cancellationToken);
    }

    /// <summary>The password was right: the address-and-account count starts again (and the address becomes known for the account); the wide counts forget this attempt.</summary>
    public async Task SucceededAsync(SignInAttempt attempt, CancellationToken cancellationToken) =>
        await db.InTransactionWithRetryAsync(async ct =>
        {
            var now = Microseconds(clock.GetUtcNow().UtcDateTime);
            for (var i = 0; i < attempt.Keys.Count; i++)
            {
                var row = await db.LockedRow<SignInThrottle>(attempt.Keys[i]).SingleOrDefaultAsync(ct);
                if (row is null)
                {
                    continue;
                }

                if (i == 0)
                {
                    row.Failures = 0;
                    row.LastFailureAt = null;
                    row.BlockedUntil = null;
                    row.LastSuccessAt = now;
                    continue;
                }

                // Undo what this attempt counted, keeping what other attempts counted meanwhile.
                var (failures, lastFailure, blockedUntil) = attempt.Before[i];
                row.Failures = Math.Max(0, row.Failures - 1);
                if (row.Failures <= failures)
                {
                    row.LastFailureAt = lastFailure;
                }

                if (row.BlockedUntil == attempt.Blocked[i])
                {
                    row.BlockedUntil = blockedUntil;
                }
            }

            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);

    /// <summary>The password was wrong (it already counted): logs the counts that now make attempts wait.</summary>
    /// <param name="knownUser">The account's name when it exists (never an unknown name, which may be a mistyped password).</param>
    public void Failed(SignInAttempt attempt, string? knownUser)
    {
        var account = knownUser ?? "(unknown user)";
        string[] scopes = [$"from {attempt.Address} for {account}", $"from {attempt.Address} for any user", $"for {account} from any address"];
        for (var i = 0; i < scopes.Length; i++)
        {
            if (attempt.Blocked[i] is { } until)
            {
                LogThrottled(logger, scopes[i], attempt.Failures[i], until);
            }
        }
    }

    /// <summary>Removes counts that have nothing left to remember (run by maintenance).</summary>
    public static async Task<int> PruneAsync(RegistryDbContext db, SignInOptions settings, DateTime now, CancellationToken cancellationToken)
    {
        var quiet = now - settings.FailureWindow;
        var forgotten = now - settings.KnownAddressTrust;
        return await db.SignInThrottles
            .Where(t => (t.LastFailureAt == null || t.LastFailureAt <= quiet)
                && (t.BlockedUntil == null || t.BlockedUntil <= now)
                && (t.LastSuccessAt == null || t.LastSuccessAt <= forgotten))
            .ExecuteDeleteAsync(cancellationToken);
    }

    /// <summary>The wait after <paramref name="failures"/> failures of which <paramref name="free"/> were free: doubling from the first delay, capped.</summary>
    internal static TimeSpan? Delay(int failures, int free, SignInOptions settings)
    {
        if (failures <= free)
        {
            return null;
        }

        var doublings = Math.Min(failures - free - 1, 30);
        var delay = settings.FirstDelay * Math.Pow(2, doublings);
        return delay < settings.MaxDelay ? delay : settings.MaxDelay;
    }

    /// <summary>Times as the databases store them (PostgreSQL keeps microseconds), so that a value read back compares equal.</summary>
    private static DateTime Microseconds(DateTime time) => new(time.Ticks - (time.Ticks % 10), DateTimeKind.Utc);

    /// <summary>
    /// The client address as counted: IPv4 as is (also when mapped into IPv6), IPv6 by its /64 network (one
    /// host is usually given a whole /64, so single addresses in it would be free to rotate through).
    /// </summary>
    internal static string AddressKey(string? clientAddress)
    {
        if (clientAddress is null || !IPAddress.TryParse(clientAddress, out var address))
        {
            return "unknown";
        }

        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return address.ToString();
        }

        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes) + "/64";
    }

    /// <summary>Account names are stored hashed: a name typed into the wrong field may be a password.</summary>
    private static string AccountHash(string account) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(account)).AsSpan(0, 16));

    private static RegistryException TooManyAttempts(TimeSpan wait)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(wait.TotalSeconds));
        var text = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        return new RegistryException(ErrorCodes.TooManyAttempts, $"Too many wrong passwords; try again in {text} s.", new Dictionary<string, object?> { ["retryAfter"] = seconds })
        {
            Headers = new Dictionary<string, string> { ["Retry-After"] = text },
        };
    }

    [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "Password checks {Scope} wait until {Until:u} after {Failures} failures")]
    private static partial void LogThrottled(ILogger logger, string scope, int failures, DateTime until);
}

/// <summary>An attempt counted by <see cref="SignInThrottler.BeginAsync"/>: its keys, and what it changed.</summary>
public sealed record SignInAttempt(
    string Address,
    IReadOnlyList<string> Keys,
    IReadOnlyList<(int Failures, DateTime? LastFailureAt, DateTime? BlockedUntil)> Before,
    IReadOnlyList<DateTime?> Blocked,
    IReadOnlyList<int> Failures);
