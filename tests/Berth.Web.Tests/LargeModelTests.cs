using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Web.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>A model with 10,000 versions: its page shows one page of them, pages on by keyset, and charts the newest.</summary>
[Trait("Database", "both")]
[Collection(BrowserCollection.Name)]
public sealed class LargeModelTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    [Fact]
    public async Task TenThousandVersionsArePagedAndChartedFromTheNewest()
    {
        await SeedAsync("big", 10_000);
        await using var ui = await UiSession.OpenAsync(browser, catalog.Server, nameof(TenThousandVersionsArePagedAndChartedFromTheNewest));
        await ui.SignInAsync("admin", UiUsers.Password);
        await ui.VisitAsync("/acme/big", "model-10000-versions");

        var rows = ui.Page.Locator("table.versions-table tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(25);
        await Assertions.Expect(rows.First).ToContainTextAsync("v10000");
        await Assertions.Expect(ui.Page.Locator("figure.chart svg circle")).ToHaveCountAsync(200);

        await ui.Page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).First.ClickAsync();
        await Assertions.Expect(rows.First).ToContainTextAsync("v9975");
        await Assertions.Expect(rows).ToHaveCountAsync(25);
        await ui.CheckAsync("model-10000-versions-page-2");
    }

    /// <summary>Writes versions straight into the database (pushing 10,000 would take minutes): one file each, metric auc.</summary>
    private async Task SeedAsync(string model, int count)
    {
        var ct = TestContext.Current.CancellationToken;
        await using var scope = catalog.Server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var space = await db.Namespaces.SingleAsync(n => n.Name == "acme", ct);
        var admin = await db.Users.SingleAsync(u => u.Name == "admin", ct);
        var now = DateTime.UtcNow;
        var entity = new RegisteredModel { NamespaceId = space.Id, Name = model, CreatedAt = now, UpdatedAt = now, Revision = 1, LastVersionNumber = count };
        db.Models.Add(entity);
        await db.SaveChangesAsync(ct);
        for (var start = 1; start <= count; start += 1000)
        {
            for (var n = start; n < start + 1000 && n <= count; n++)
            {
                var digest = "sha256:" + n.ToString("x64", System.Globalization.CultureInfo.InvariantCulture);
                db.Versions.Add(new ModelVersion
                {
                    ModelId = entity.Id,
                    Number = n,
                    ManifestDigest = digest,
                    Manifest = [],
                    State = VersionState.Ready,
                    CreatedAt = now.AddSeconds(n),
                    ReadyAt = now.AddSeconds(n),
                    CreatedById = admin.Id,
                    Revision = 1,
                    TotalSize = 1,
                    FileCount = 1,
                    Metrics = [new VersionMetric { Name = "auc", Value = 0.5 + (n % 100 / 250.0) }],
                });
            }

            await db.SaveChangesAsync(ct);
            db.ChangeTracker.Clear();
        }
    }
}
