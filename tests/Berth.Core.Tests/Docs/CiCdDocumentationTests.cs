namespace Berth.Core.Tests.Docs;

public sealed class CiCdDocumentationTests
{
    /// <summary>The receiver shown in docs/ci-cd.md is the one the solution builds, character for character.</summary>
    [Fact]
    public void TheDocumentedReceiverIsTheBuiltExample()
    {
        var root = ErrorCodesDocumentationTests.RepositoryRoot();
        var doc = File.ReadAllText(Path.Combine(root, "docs", "ci-cd.md"));
        var program = File.ReadAllText(Path.Combine(root, "examples", "WebhookReceiver", "Program.cs"));
        Assert.Contains("```csharp\n" + program + "```", doc, StringComparison.Ordinal);
        Assert.Contains("WebhookSignature.Verify(secret, request.Headers[WebhookSignature.Header], body", program, StringComparison.Ordinal);
    }
}
