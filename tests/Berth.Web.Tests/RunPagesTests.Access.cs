using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

public sealed partial class RunPagesTests
{
    [Fact]
    public async Task AReaderSeesRunsButNoDeleteAndAForgedDeleteIsRefused()
    {
        await using var ui = await SignedInAsync(nameof(AReaderSeesRunsButNoDeleteAndAForgedDeleteIsRefused), "rita");
        var page = ui.Page;
        await ui.VisitAsync($"/acme/fraud/runs/{runs.Child.Id}", "run-as-reader");
        Assert.Equal(0, await page.GetByRole(AriaRole.Heading, new() { Name = "Delete this run" }).CountAsync());
        Assert.Equal(0, await page.Locator("main form[method='post']").CountAsync());
        // The parent run, linked.
        await page.Locator(".lineage a", new() { HasTextString = runs.Baseline.Id }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith($"/acme/fraud/runs/{runs.Baseline.Id}", StringComparison.Ordinal));

        var token = await page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
        var forged = await page.APIRequest.PostAsync($"/acme/fraud/runs/{runs.Child.Id}", new()
        {
            Form = page.APIRequest.CreateFormData().Set("_handler", "delete-run").Set("_csrf", token!).Set("confirm", runs.Child.Id),
        });
        Assert.Equal(403, forged.Status);
        Assert.Contains("this needs the admin role", await forged.TextAsync(), StringComparison.Ordinal);
        Assert.Equal("finished", (await runs.Server.Client.GetRunAsync("acme", "fraud", runs.Child.Id, Ct)).Status);
    }

    [Fact]
    public async Task AnOutsiderGetsNotFoundFromEveryRunPage()
    {
        await using var ui = await SignedInAsync(nameof(AnOutsiderGetsNotFoundFromEveryRunPage), "otto");
        var page = ui.Page;
        foreach (var (path, name) in new[]
        {
            ("/acme/fraud/runs", "runs-as-outsider"),
            ($"/acme/fraud/runs/{runs.Baseline.Id}", "run-as-outsider"),
            ($"/acme/fraud/runs/compare?run={runs.Baseline.Id}", "compare-as-outsider"),
        })
        {
            await ui.VisitAsync(path, name, 404);
            await Assertions.Expect(page.Locator(".error-message")).ToHaveTextAsync("Namespace 'acme' does not exist, or you have no role in it.");
        }

        // The same answer as for a namespace that does not exist.
        await ui.VisitAsync("/nowhere/fraud/runs", "runs-no-namespace", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToHaveTextAsync("Namespace 'nowhere' does not exist, or you have no role in it.");
    }

    [Fact]
    public async Task UnknownRunsAndModelsAnswerTheNotFoundPage()
    {
        await using var ui = await SignedInAsync(nameof(UnknownRunsAndModelsAnswerTheNotFoundPage));
        var page = ui.Page;
        await ui.VisitAsync("/acme/fraud/runs/aaaaaaaaaaaa", "run-unknown", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToHaveTextAsync("'acme/fraud' has no run 'aaaaaaaaaaaa'.");
        await ui.VisitAsync("/acme/fraud/runs/NOT-A-RUN-ID", "run-malformed", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToHaveTextAsync("'acme/fraud' has no run 'NOT-A-RUN-ID'.");
        // A run of another model is not found under this one.
        await ui.VisitAsync($"/acme/sweep/runs/{runs.Baseline.Id}", "run-other-model", 404);
        await ui.VisitAsync("/acme/nothing/runs", "runs-unknown-model", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("Model 'acme/nothing' does not exist");
    }

    [Fact]
    public async Task AnAdministratorDeletesARunOnceItsIdIsTyped()
    {
        var doomed = await runs.Server.Client.CreateRunAsync("acme", "fraud", new Berth.Contracts.Dtos.CreateRunRequest("doomed"), Ct);
        await using var ui = await SignedInAsync(nameof(AnAdministratorDeletesARunOnceItsIdIsTyped));
        var page = ui.Page;
        await ui.VisitAsync($"/acme/fraud/runs/{doomed.Id}", "run-as-admin");
        await page.GetByLabel($"Type {doomed.Id} to confirm").FillAsync("not-it");
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete run" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToHaveTextAsync($"Type {doomed.Id} exactly to delete this run.");
        await ui.CheckAsync("run-delete-refused");

        await page.GetByLabel($"Type {doomed.Id} to confirm").FillAsync(doomed.Id);
        await page.GetByRole(AriaRole.Button, new() { Name = "Delete run" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/acme/fraud/runs", StringComparison.Ordinal));
        await Assertions.Expect(page.Locator(".flash-success")).ToHaveTextAsync("Deleted run doomed.");
        Assert.Equal(0, await page.Locator("#compare-" + doomed.Id).CountAsync());
        await ui.VisitAsync($"/acme/fraud/runs/{doomed.Id}", "run-deleted", 404);

        // The same service and audit as DELETE …/runs/{id}: the entry names the admin and the run.
        var audit = await runs.Server.Http.GetStringAsync("/api/v1/audit?action=run.delete", Ct);
        Assert.Contains($"acme/fraud/runs/{doomed.Id}", audit, StringComparison.Ordinal);
        Assert.Contains("\"actor\":\"admin\"", audit, StringComparison.Ordinal);
    }

    [Fact]
    public async Task VersionsLinkTheirRunAndEveryRunPageFitsAPhone()
    {
        await using var ui = await SignedInAsync(nameof(VersionsLinkTheirRunAndEveryRunPageFitsAPhone));
        var page = ui.Page;
        await ui.VisitAsync("/acme/fraud/versions/1", "version-with-run");
        await page.Locator(".lineage a", new() { HasTextString = runs.Baseline.Id }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith($"/acme/fraud/runs/{runs.Baseline.Id}", StringComparison.Ordinal));

        await page.SetViewportSizeAsync(390, 844);
        foreach (var path in new[]
        {
            "/acme/fraud/runs", "/acme/sweep/runs", $"/acme/fraud/runs/{runs.Baseline.Id}", $"/acme/fraud/runs/{runs.Long.Id}?x=time&scale=log",
            $"/acme/fraud/runs/compare?run={runs.Baseline.Id}&run={runs.Child.Id}&run={runs.Diverged.Id}", "/acme/fraud/runs?filter=bad%20(",
        })
        {
            await page.GotoAsync(path);
            var width = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth");
            Assert.True(width <= 390, $"{path} is {width} px wide on a 390 px phone.");
        }
    }
}
