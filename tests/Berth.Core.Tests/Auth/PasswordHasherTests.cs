using Berth.Core.Auth;

namespace Berth.Core.Tests.Auth;

public sealed class PasswordHasherTests
{
    private const string Password = "correct horse battery staple";

    // Written by Argon2's reference implementation (Debian's argon2: `echo -n "correct horse battery staple" |
    // argon2 somesalt-16bytes -id -t 2 -k 19456 -p 1 -l 32`), the same bytes Berth's earlier managed Argon2 wrote:
    // passwords set before Berth moved to libsodium keep working.
    private const string ReferenceHash = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQtMTZieXRlcw$xFZx8JKHa7F66en0ZvA5LOGKpZgzsamW4Mf67ZW9DrI";

    [Fact]
    public void AHashOfArgon2sReferenceImplementationVerifies()
    {
        Assert.True(PasswordHasher.Verify(Password, ReferenceHash));
        Assert.False(PasswordHasher.Verify(Password + " ", ReferenceHash));
        Assert.False(PasswordHasher.Verify("Correct horse battery staple", ReferenceHash));
    }

    [Fact]
    public void AHashVerifiesItsPasswordOnlyAndCarriesItsParametersAndAFreshSalt()
    {
        var first = PasswordHasher.Hash(Password);
        var second = PasswordHasher.Hash(Password);

        Assert.StartsWith("$argon2id$v=19$m=19456,t=2,p=1$", first, StringComparison.Ordinal);
        Assert.NotEqual(first.Split('$')[4], second.Split('$')[4]);
        Assert.True(PasswordHasher.Verify(Password, first));
        Assert.True(PasswordHasher.Verify(Password, second));
        Assert.False(PasswordHasher.Verify("correct horse battery stapler", first));
        Assert.False(PasswordHasher.Verify("", first));
    }

    [Fact]
    public void ANonAsciiPasswordIsHashedAsItsUtf8Bytes()
    {
        const string password = "pässwörd-日本語-🔑";
        var hash = PasswordHasher.Hash(password);

        Assert.True(PasswordHasher.Verify(password, hash));
        Assert.False(PasswordHasher.Verify("passwort-日本語-🔑", hash));
    }

    [Theory]
    [InlineData("$argon2i$v=19$m=19456,t=2,p=1$c29tZXNhbHQtMTZieXRlcw$xFZx8JKHa7F66en0ZvA5LOGKpZgzsamW4Mf67ZW9DrI")]
    [InlineData("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQtMTZieXRlcw$yFZx8JKHa7F66en0ZvA5LOGKpZgzsamW4Mf67ZW9DrI")]
    [InlineData("$argon2id$v=19$m=19456,t=3,p=1$c29tZXNhbHQtMTZieXRlcw$xFZx8JKHa7F66en0ZvA5LOGKpZgzsamW4Mf67ZW9DrI")]
    [InlineData("$argon2id$v=19$m=19456,t=2,p=4$c29tZXNhbHQtMTZieXRlcw$xFZx8JKHa7F66en0ZvA5LOGKpZgzsamW4Mf67ZW9DrI")]
    [InlineData("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ$xFZx8JKHa7F66en0ZvA5LOGKpZgzsamW4Mf67ZW9DrI")]
    [InlineData("not a hash")]
    public void AnAlteredOrForeignHashDoesNotVerify(string encoded) => Assert.False(PasswordHasher.Verify(Password, encoded));
}
