using Berth.Contracts.Errors;

namespace Berth.Core.Tests.Docs;

public sealed class ErrorCodesDocumentationTests
{
    [Fact]
    public void EveryErrorCodeIsDocumentedWithItsStatus()
    {
        var text = File.ReadAllText(Path.Combine(RepositoryRoot(), "docs", "errors.md"));
        foreach (var code in ErrorCodes.All.Values)
        {
            Assert.Contains($"| `{code.Code}` | {code.Status} |", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ErrorCodesAreUniqueAndSnakeCase()
    {
        Assert.All(ErrorCodes.All.Keys, code => Assert.Matches("^[a-z]+(_[a-z]+)*$", code));
        Assert.True(ErrorCodes.All.Count > 40);
    }

    internal static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Berth.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Berth.slnx not found above the test assembly.");
    }
}
