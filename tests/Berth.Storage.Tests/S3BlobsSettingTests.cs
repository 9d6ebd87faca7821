using Berth.Storage.S3;

namespace Berth.Storage.Tests;

public sealed class S3BlobsSettingTests
{
    [Fact]
    public void TheDocumentedFormBecomesTheOptionsItSpells()
    {
        var options = S3BlobsSetting.Parse("s3://models-bucket/berth/prod?endpoint=http://s3.internal:9000&region=eu-west-3&path-style=true" +
            "&checksums=when-required&download=redirect&part-size-mb=16&access-key=AKIAEXAMPLE&secret-key=s3cr%2Ft");

        Assert.Equal("models-bucket", options.Bucket);
        Assert.Equal("berth/prod/", options.Prefix);
        Assert.Equal(new Uri("http://s3.internal:9000"), options.Endpoint);
        Assert.Equal("eu-west-3", options.Region);
        Assert.True(options.ForcePathStyle);
        Assert.True(options.ChecksumsWhenRequired);
        Assert.Equal(S3TransferMode.Redirect, options.Download);
        Assert.Equal(16 * 1024 * 1024, options.PartSize);
        Assert.Equal("AKIAEXAMPLE", options.AccessKey);
        Assert.Equal("s3cr/t", options.SecretKey);
        Assert.Equal("S3 bucket 'models-bucket' prefix 'berth/prod/' at http://s3.internal:9000", options.Description);
    }

    [Fact]
    public void DefaultsSuitAws()
    {
        var options = S3BlobsSetting.Parse("s3://models-bucket");
        Assert.Equal("", options.Prefix);
        Assert.Null(options.Endpoint);
        Assert.Equal("us-east-1", options.Region);
        Assert.False(options.ForcePathStyle);
        Assert.False(options.ChecksumsWhenRequired);
        Assert.Equal(S3TransferMode.Proxy, options.Download);
        Assert.Null(options.AccessKey);
        Assert.Equal(S3BlobStoreOptions.DefaultPartSize, options.PartSize);
        Assert.Equal("S3 bucket 'models-bucket' at AWS us-east-1", options.Description);
    }

    [Theory]
    [InlineData("s3://models/../etc", "may not contain '.' or '..' segments")]
    [InlineData("s3://user:pw@models/berth", "credentials do not belong before the bucket name")]
    [InlineData("s3://models/berth?region=US%20East", "region 'US East' is not a region name")]
    [InlineData("s3://models/berth?region=a&region=b", "parameter 'region' is given twice")]
    [InlineData("s3://models/berth?checksums=never", "checksums must be when-supported or when-required, not 'never'")]
    [InlineData("s3://ab", "'ab' is not a valid bucket name")]
    public void MistakesAreNamed(string value, string message)
    {
        var failure = Assert.Throws<FormatException>(() => S3BlobsSetting.Parse(value));
        Assert.Contains(message, failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("pw", failure.Message, StringComparison.Ordinal);
    }
}
