using Berth.Contracts.Dtos;
using Berth.Web.Components.Pages.Settings;
using Berth.Web.Components.UI;
using Bunit;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Web.Tests.Components;

/// <summary>The settings pages' pieces without a server: stage rules in words, form fields into API requests, attempts, URLs.</summary>
public sealed class SettingsComponentTests : IDisposable
{
    private readonly BunitContext _context = new();

    public SettingsComponentTests() => _context.Services.AddSingleton(TimeProvider.System);

    public void Dispose() => _context.Dispose();

    [Fact]
    public void AStageWithoutRulesIsOpenAndAGatedOneShowsItsGateAsText()
    {
        var open = _context.Render<StageRules>(p => p.Add(x => x.Rule, new StageRuleInfo("staging", 1, false, 0, null, DateTimeOffset.UtcNow)));
        Assert.Equal("open", open.Find(".policy-rules").TextContent.Trim());

        var gated = _context.Render<StageRules>(p => p.Add(x => x.Rule, new StageRuleInfo("production", 2, true, 2, "metrics.auc >= 0.9 and tags.x = '<b>'", DateTimeOffset.UtcNow)));
        Assert.Contains("one version at a time", gated.Markup, StringComparison.Ordinal);
        Assert.Contains("2 approvals needed", gated.Markup, StringComparison.Ordinal);
        Assert.Equal("metrics.auc >= 0.9 and tags.x = '<b>'", gated.Find("code").TextContent);
        Assert.Empty(gated.FindAll("b"));
    }

    [Fact]
    public void AnEmptyGateRemovesItAndMissingFieldsKeepTheirValues()
    {
        var request = new StageForm.Fields { Approvals = 1, Gate = "  " }.ToRequest();
        Assert.Equal(new SetStageRuleRequest(null, 1, "", null), request);
        Assert.Equal(0, new StageForm.Fields().ToRequest().RequiredApprovals);
    }

    [Fact]
    public void AWebhookFormWithNothingTickedMeansEveryEventAndAnEmptyModelMeansEveryModel()
    {
        var fields = new WebhookForm.Fields { Url = " https://example.com/hook ", Model = "", Description = "", Secret = "" };
        var update = fields.ToUpdateRequest([]);
        Assert.Equal(("https://example.com/hook", null, "", ""), (update.Url, update.Secret, update.Model, update.Description));
        Assert.Equal(["*"], update.Events);
        var create = fields.ToCreateRequest(["version.created"]);
        Assert.Equal((null, null, null), (create.Secret, create.Model, create.Description));
        Assert.Equal(["version.created"], create.Events);
    }

    [Fact]
    public void AnAttemptSaysItsStatusOrWhyItGotNone()
    {
        Assert.Equal("HTTP 204 in 12 ms", WebhookPage.AttemptSummary(new DeliveryAttemptInfo(1, DateTimeOffset.UtcNow, 12.3, 204, null, null)));
        Assert.Equal("HTTP 500 (http_error) in 7 ms", WebhookPage.AttemptSummary(new DeliveryAttemptInfo(1, DateTimeOffset.UtcNow, 7, 500, "http_error", null)));
        Assert.Equal("timeout in 3000 ms", WebhookPage.AttemptSummary(new DeliveryAttemptInfo(2, DateTimeOffset.UtcNow, 3000, null, "timeout", null)));
        Assert.Equal("no attempt", WebhookPage.AttemptSummary(null));
    }

    [Fact]
    public void SettingsUrlsEscapeEveryName()
    {
        Assert.Equal("/settings/namespaces/acme/models/fraud%20x", Links.SettingsModel("acme", "fraud x"));
        Assert.Equal("/settings/namespaces/acme/webhooks/42", Links.SettingsWebhook("acme", 42));
        Assert.Equal("/settings/users/a.b", Links.SettingsUser("a.b"));
        Assert.Equal("/settings/teams/ml%2Fops", Links.SettingsTeam("ml/ops"));
    }

    [Fact]
    public void AOneTimePasswordIsShownAsTextToCopy()
    {
        var cut = _context.Render<OneTimePassword>(p => p.Add(x => x.User, "nora").Add(x => x.Password, "abc<def>"));
        Assert.Equal("abc<def>", cut.Find("pre code").TextContent);
        Assert.Contains("One-time password of nora", cut.Find("h2").TextContent, StringComparison.Ordinal);
    }
}
