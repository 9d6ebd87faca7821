using Berth.Contracts.Errors;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Filtering;

namespace Berth.Core.Tests.Filtering;

/// <summary><c>metadata.*</c> and <c>scan.*</c> in the filter language: parsing, typing, and the in-memory meaning gates use.</summary>
public sealed class InsightFilterTests
{
    private static VersionFacts Facts(VersionInsightRecord? insight) => new("acme", "m", 1, null, null, [], DateTime.UnixEpoch, "sha256:x", 1, 1,
        new Dictionary<string, double>(), new Dictionary<string, string>(), new Dictionary<string, string>(), insight);

    private static readonly VersionInsightRecord Read = new()
    {
        State = "done",
        Framework = "onnx",
        Format = "onnx",
        Parameters = 1_500_000_000,
        Precision = "float16",
        ScanVerdict = "safe",
        DangerousFiles = 0,
        SuspiciousFiles = 0,
        ScannedFiles = 0,
    };

    [Theory]
    [InlineData("metadata.framework = \"onnx\" and metadata.parameters > 1000000000", true)]
    [InlineData("metadata.parameters > 1e10", false)]
    [InlineData("metadata.precision in ('float16', 'bfloat16')", true)]
    [InlineData("metadata.quantization is null", true)]
    [InlineData("metadata.framework ilike 'ON%'", true)]
    [InlineData("scan.dangerous = 0 and scan.verdict = 'safe'", true)]
    [InlineData("scan.suspicious > 0", false)]
    [InlineData("metadata.state = 'done'", true)]
    public void AReadVersionIsMatchedOnItsColumns(string filter, bool expected)
    {
        Assert.Equal(expected, FilterEvaluator.Matches(FilterParser.Parse(filter), Facts(Read)));
    }

    [Fact]
    public void AVersionNotReadYetHasEveryFieldMissingSoAGateOnTheScanFails()
    {
        var result = FilterEvaluator.Evaluate(FilterParser.Parse("scan.dangerous = 0"), Facts(null));

        Assert.False(result.Passed);
        Assert.Equal("missing (not read yet)", Assert.Single(result.Failures).Actual);
        Assert.True(FilterEvaluator.Matches(FilterParser.Parse("metadata.framework is null"), Facts(null)));
    }

    [Theory]
    [InlineData("metadata.size > 1", "Unknown field 'metadata.size'")]
    [InlineData("metadata.parameters > 'big'", "metadata.parameters is a number")]
    [InlineData("metadata.framework > 'a'", "does not apply to metadata.framework")]
    [InlineData("scan.verdict like 1", "expected a quoted string")]
    [InlineData("metadata = 'x'", "Expected '.' and a key after 'metadata'")]
    public void MistakesAreInvalidFilterErrors(string filter, string message)
    {
        var error = Assert.Throws<RegistryException>(() => FilterParser.Parse(filter));

        Assert.Equal(ErrorCodes.InvalidFilter, error.Error);
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RunsHaveNoInsightFields()
    {
        var error = Assert.Throws<RegistryException>(() => FilterParser.Parse("metadata.framework = 'onnx'", FilterScope.Runs));

        Assert.Contains("describes a version's files", error.Message, StringComparison.Ordinal);
    }
}
