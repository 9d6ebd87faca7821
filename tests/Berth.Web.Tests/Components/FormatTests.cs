using Berth.Web.Rendering;

namespace Berth.Web.Tests.Components;

public sealed class FormatTests
{
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData(10, "just now")]
    [InlineData(60, "a minute ago")]
    [InlineData(600, "10 minutes ago")]
    [InlineData(7200, "2 hours ago")]
    [InlineData(100_000, "yesterday")]
    [InlineData(864_000, "10 days ago")]
    [InlineData(8_640_000, "on 2026-02-21")]
    public void RelativeTimesReadNaturally(int secondsAgo, string expected) =>
        Assert.Equal(expected, Format.Relative(Now.AddSeconds(-secondsAgo), Now));

    [Theory]
    [InlineData(0, "0 B")]
    [InlineData(1023, "1,023 B")]
    [InlineData(1536, "1.5 KB")]
    [InlineData(5L * 1024 * 1024 * 1024, "5 GB")]
    public void SizesUseBinaryUnits(long bytes, string expected) => Assert.Equal(expected, Format.Bytes(bytes));

    [Fact]
    public void DigestsAreShortenedToTwelveHexDigits() =>
        Assert.Equal("sha256:0123456789ab", Format.ShortDigest("sha256:" + new string('0', 0) + "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));

    [Fact]
    public void ExcerptsSkipHeadingsAndStopAtTheLimit()
    {
        Assert.Equal("Catches fraud.", Format.Excerpt("# Title\n\nCatches **fraud**.\n\nMore."));
        Assert.Equal(10, Format.Excerpt(new string('x', 50), 10).Length);
    }
}
