using Berth.Web.Tests.Support;

namespace Berth.Web.Tests;

/// <summary>Every page fits a 375 px wide phone: wide tables scroll inside their frame, the page itself never sideways.</summary>
[Collection(BrowserCollection.Name)]
public sealed class PhoneLayoutTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    [Fact]
    public async Task NoPageIsWiderThanAPhone()
    {
        await using var ui = await UiSession.OpenAsync(browser, catalog.Server, nameof(NoPageIsWiderThanAPhone));
        await ui.SignInAsync("admin", UiUsers.Password);
        await ui.Page.SetViewportSizeAsync(375, 812);
        foreach (var path in new[]
        {
            "/", "/acme", "/acme/fraud-detector", "/acme/fraud-detector/versions/3",
            "/compare?v=acme/churn:latest&v=acme/fraud-detector:production&v=research/xss-card:1", "/compare", "/requests", "/audit", "/no/such/page",
        })
        {
            await ui.Page.GotoAsync(path);
            var width = await ui.Page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
            Assert.True(width <= 375, $"{path} is {width} px wide on a 375 px phone.");
        }
    }
}
