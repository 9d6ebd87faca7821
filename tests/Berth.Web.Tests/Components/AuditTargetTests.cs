using Berth.Web.Rendering;

namespace Berth.Web.Tests.Components;

public sealed class AuditTargetTests
{
    [Theory]
    [InlineData("namespace acme", "acme", null, null)]
    [InlineData("namespace acme stage production", "acme", null, null)]
    [InlineData("acme/fraud", "acme", "fraud", null)]
    [InlineData("acme/fraud:12", "acme", "fraud", 12)]
    [InlineData("acme/fraud alias champion", "acme", "fraud", null)]
    [InlineData("model acme/fraud stage production", "acme", "fraud", null)]
    public void NamespacesModelsAndVersionsAreRecognised(string target, string ns, string? model, int? version) =>
        Assert.Equal(new AuditTarget(ns, model, version), AuditTarget.Parse(target));

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("request #12")]
    [InlineData("user alice")]
    [InlineData("team ml-writers")]
    [InlineData("token berth_ab12… of admin")]
    [InlineData("webhook #3")]
    [InlineData("sha256:0123456789abcdef")]
    [InlineData("acme/fraud:99999999999")]
    public void OtherTargetsAreText(string? target) => Assert.Null(AuditTarget.Parse(target));
}
