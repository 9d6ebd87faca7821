using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Berth.Core.Filtering;

namespace Berth.Core.Tests.Filtering;

public sealed class SearchSortTests
{
    public sealed class Parse
    {
        [Theory]
        [InlineData(null)]
        [InlineData("")]
        [InlineData("   ")]
        public void DefaultsToNewestFirst(string? text)
        {
            Assert.Equal(new SearchSort(SortField.Created, Descending: true), SearchSort.Parse(text));
        }

        [Theory]
        [InlineData("created", SortField.Created, false, null)]
        [InlineData("-created", SortField.Created, true, null)]
        [InlineData(" Version ", SortField.Version, false, null)]
        [InlineData("-version", SortField.Version, true, null)]
        [InlineData("name", SortField.Name, false, null)]
        [InlineData("-name", SortField.Name, true, null)]
        [InlineData("metrics.auc", SortField.Metric, false, "auc")]
        [InlineData("-metrics.val/loss", SortField.Metric, true, "val/loss")]
        [InlineData("-metrics.`odd key`", SortField.Metric, true, "odd key")]
        [InlineData("Metrics.\"a.b\"", SortField.Metric, false, "a.b")]
        public void ReadsFieldDirectionAndMetricKey(string text, SortField field, bool descending, string? key)
        {
            Assert.Equal(new SearchSort(field, descending, key), SearchSort.Parse(text));
        }

        [Theory]
        [InlineData("-created")]
        [InlineData("version")]
        [InlineData("-metrics.auc")]
        [InlineData("metrics.`odd key`")]
        public void PrintsAFormThatParsesBackToTheSameSort(string text)
        {
            var sort = SearchSort.Parse(text);

            Assert.Equal(sort, SearchSort.Parse(sort.ToString()));
        }

        [Theory]
        [InlineData("newest")]
        [InlineData("+created")]
        [InlineData("--created")]
        [InlineData("- created")]
        [InlineData("metrics")]
        [InlineData("metrics.")]
        [InlineData("metrics.`unterminated")]
        [InlineData("metrics.auc desc")]
        [InlineData("params.optimizer")]
        public void RejectsAnythingElseAsAnInvalidFilter(string text)
        {
            var error = Assert.Throws<RegistryException>(() => SearchSort.Parse(text));

            Assert.Equal(ErrorCodes.InvalidFilter, error.Error);
            Assert.StartsWith("Unknown sort", error.Message, StringComparison.Ordinal);
        }
    }
}
