using Berth.Contracts.Naming;

namespace Berth.Core.Tests.Naming;

public sealed class DigestTests
{
    public sealed class TryParse
    {
        [Theory]
        [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
        [InlineData("sha256:0000000000000000000000000000000000000000000000000000000000000000")]
        public void AcceptsLowercaseSha256(string value)
        {
            Assert.True(Digest.TryParse(value, out var digest));
            Assert.Equal(value, digest.ToString());
        }

        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("sha256:")]
        [InlineData("sha256:E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855")]
        [InlineData("sha512:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
        [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b85")]
        [InlineData("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b8555")]
        [InlineData("sha256:../../../../etc/passwd/00000000000000000000000000000000000000000000")]
        [InlineData("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")]
        public void RejectsAnythingElse(string? value)
        {
            Assert.False(Digest.TryParse(value, out _));
        }
    }

    public sealed class Compute
    {
        [Fact]
        public void HashesTheEmptyInputToTheKnownValue()
        {
            Assert.Equal("sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", Digest.Compute([]).ToString());
        }
    }
}
