using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NSec.Cryptography;

namespace Berth.Core.Auth;

/// <summary>
/// Argon2id password hashes in the PHC string format
/// (<c>$argon2id$v=19$m=19456,t=2,p=1$&lt;salt&gt;$&lt;hash&gt;</c>), with the parameters OWASP recommends.
/// The parameters travel with each hash, so they can be raised later without breaking old passwords.
/// libsodium computes them (through NSec): several times faster than the managed Argon2 Berth used before, with the
/// same hashes, so a sign-in costs the server tens of milliseconds of CPU rather than most of a second.
/// </summary>
public static class PasswordHasher
{
    public const int MinimumLength = 10;
    private const int MemoryKiB = 19456;
    private const int Iterations = 2;
    private const int Parallelism = 1;
    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    public static string Hash(string password)
    {
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Derive(password, salt, MemoryKiB, Iterations, HashBytes);
        return $"$argon2id$v=19$m={MemoryKiB},t={Iterations},p={Parallelism}${Convert.ToBase64String(salt).TrimEnd('=')}${Convert.ToBase64String(hash).TrimEnd('=')}";
    }

    public static bool Verify(string password, string encoded)
    {
        var parts = encoded.Split('$');
        if (parts.Length != 6 || parts[1] != "argon2id")
        {
            return false;
        }

        var settings = parts[3].Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => int.Parse(p[1], CultureInfo.InvariantCulture));
        var salt = FromBase64(parts[4]);
        var expected = FromBase64(parts[5]);
        // libsodium's Argon2id takes one lane and 16-byte salts: what Hash has always written.
        if (settings["p"] != Parallelism || salt.Length != SaltBytes)
        {
            return false;
        }

        var actual = Derive(password, salt, settings["m"], settings["t"], expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    /// <summary>
    /// Spends the same time as <see cref="Verify"/> when there is no hash to check (unknown or disabled
    /// user), so response times do not tell which user names exist.
    /// </summary>
    public static bool VerifyNothing(string password)
    {
        _ = Verify(password, DummyHash.Value);
        return false;
    }

    private static readonly Lazy<string> DummyHash = new(() => Hash(GenerateOneTimePassword()));

    /// <summary>A random password for first sign-in or a reset: 20 characters from an unambiguous alphabet.</summary>
    public static string GenerateOneTimePassword()
    {
        const string alphabet = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKMNPQRSTUVWXYZ23456789";
        return string.Create(20, alphabet, (span, chars) =>
        {
            for (var i = 0; i < span.Length; i++)
            {
                span[i] = chars[RandomNumberGenerator.GetInt32(chars.Length)];
            }
        });
    }

    public static string? CheckStrength(string? password) =>
        password is null || password.Length < MinimumLength
            ? $"A password needs at least {MinimumLength} characters."
            : password.Length > 1024 ? "A password may have at most 1024 characters." : null;

    private static byte[] Derive(string password, byte[] salt, int memoryKiB, int iterations, int length)
    {
        var argon = PasswordBasedKeyDerivationAlgorithm.Argon2id(new Argon2Parameters
        {
            DegreeOfParallelism = Parallelism,
            MemorySize = memoryKiB,
            NumberOfPasses = iterations,
        });
        // The bytes overload: NSec's string overload does not hash the password's UTF-8 bytes as Argon2's reference does.
        return argon.DeriveBytes(Encoding.UTF8.GetBytes(password), salt, length);
    }

    private static byte[] FromBase64(string text) => Convert.FromBase64String(text.PadRight(text.Length + ((4 - (text.Length % 4)) % 4), '='));
}
