using Berth.Contracts.Naming;
using Berth.Core.Auth;

namespace Berth.Core.Tests.Auth;

public sealed class UserNamesTests
{
    public sealed class FromClaim
    {
        [Theory]
        [InlineData("alice", "alice")]
        [InlineData("Alice.Smith@corp.example", "alice.smith")]
        [InlineData("José Müller", "jose-muller")]
        [InlineData("  --weird__name!!  ", "weird_name")]
        [InlineData("CN=Bob, OU=Risk", "cn-bob-ou-risk")]
        [InlineData("00u1abcd2EFGH3ijk4l5", "00u1abcd2efgh3ijk4l5")]
        [InlineData("@@@", "user")]
        [InlineData("", "user")]
        [InlineData(null, "user")]
        [InlineData("张伟", "user")]
        public void MakesAValidName(string? claim, string expected)
        {
            var name = UserNames.FromClaim(claim);
            Assert.Equal(expected, name);
            Assert.Null(Names.CheckModel(name));
        }

        [Fact]
        public void CutsLongNamesWithoutLeavingASeparatorAtTheEnd()
        {
            var name = UserNames.FromClaim(new string('a', 63) + ".b");
            Assert.Equal(new string('a', 63), name);
        }
    }

    public sealed class WithSuffix
    {
        [Fact]
        public void AppendsTheNumberAndStaysWithinTheLimit()
        {
            Assert.Equal("bob-2", UserNames.WithSuffix("bob", 2));
            var longName = UserNames.WithSuffix(new string('x', 60) + "-yz", 12);
            Assert.Equal(UserNames.MaxLength - 1, longName.Length);
            Assert.EndsWith("x-12", longName, StringComparison.Ordinal);
        }
    }
}
