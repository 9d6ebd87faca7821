using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>A run page's Files section (list, pages, previews, images) and its "Register as a version" form.</summary>
public sealed partial class RunPagesTests
{
    private string VisionPath(string query = "") => $"/acme/vision/runs/{runs.Vision.Id}{query}";

    [Fact]
    public async Task TheFilesSectionListsPagesAndDownloadsARunsFilesAndShowsItsImages()
    {
        await using var ui = await SignedInAsync(nameof(TheFilesSectionListsPagesAndDownloadsARunsFilesAndShowsItsImages), "rita");
        var page = ui.Page;
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await ui.VisitAsync(VisionPath(), "run-files");
        var files = page.Locator("section.run-files");
        await Assertions.Expect(files.Locator("#files-heading")).ToContainTextAsync("in 68 files");
        var rows = files.Locator("table.run-files-table tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(50);
        await Assertions.Expect(rows.First.Locator("th")).ToHaveTextAsync("README.md");
        var weights = rows.Filter(new() { Has = page.Locator("th", new() { HasTextString = "model/weights.bin" }) });
        await Assertions.Expect(weights).ToContainTextAsync("4 KB");
        await Assertions.Expect(weights.Locator(".digest code")).ToHaveAttributeAsync("title", Berth.Testing.ModelFolder.Sha256(RunsFixture.VisionFiles["model/weights.bin"]));

        // The images of the page, drawn from their bytes (a ".png" holding HTML is not drawn: the image route sends it to the download).
        var thumbnails = files.Locator(".run-images img");
        await Assertions.Expect(thumbnails).ToHaveCountAsync(3);
        var loss = files.Locator(".run-images img[alt='plots/loss.png']");
        await loss.ScrollIntoViewIfNeededAsync();
        await Assertions.Expect(loss).ToHaveJSPropertyAsync("complete", true);
        Assert.Equal(360, await loss.EvaluateAsync<int>("img => img.naturalWidth"));
        var fake = files.Locator(".run-images img[alt='plots/not-an-image.png']");
        await fake.ScrollIntoViewIfNeededAsync();
        await Assertions.Expect(fake).ToHaveJSPropertyAsync("complete", true);
        Assert.Equal(0, await fake.EvaluateAsync<int>("img => img.naturalWidth"));

        // A download link is the API's attachment, the same bytes.
        var download = await page.RunAndWaitForDownloadAsync(() => weights.GetByRole(AriaRole.Link, new() { Name = "Download model/weights.bin" }).ClickAsync());
        Assert.Equal("weights.bin", download.SuggestedFilename);
        Assert.Equal(RunsFixture.VisionFiles["model/weights.bin"], await File.ReadAllBytesAsync((await download.PathAsync())!, Ct));

        // 68 files: 50 a page.
        await page.GetByRole(AriaRole.Navigation, new() { Name = "File pages" }).GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
        await Assertions.Expect(rows).ToHaveCountAsync(18);
        await Assertions.Expect(rows.Last.Locator("th")).ToHaveTextAsync("weights/epoch-59.pt");
        await Assertions.Expect(files.Locator(".run-images")).ToHaveCountAsync(0);
        await ui.CheckAsync("run-files-page-2");
        // A preview from the second page keeps the page.
        await rows.Last.Locator("th a").ClickAsync();
        await Assertions.Expect(page.Locator("#preview-heading")).ToContainTextAsync("weights/epoch-59.pt");
        await Assertions.Expect(page.Locator("#preview")).ToContainTextAsync("A binary file");
        await Assertions.Expect(rows).ToHaveCountAsync(18);
        await Assertions.Expect(rows.Last).ToHaveClassAsync("row-current");
        Assert.Equal(0, dialogs);
    }

    [Fact]
    public async Task TextJsonAndImagesArePreviewedEscapedAndBinariesAreNot()
    {
        await using var ui = await SignedInAsync(nameof(TextJsonAndImagesArePreviewedEscapedAndBinariesAreNot), "rita");
        var page = ui.Page;
        var dialogs = 0;
        page.Dialog += (_, dialog) =>
        {
            dialogs++;
            _ = dialog.DismissAsync();
        };
        await ui.VisitAsync(VisionPath(), "run-files-before-preview");
        var preview = page.Locator("#preview");

        // JSON: pretty-printed, and the markup in it is text.
        await page.Locator("table.run-files-table a", new() { HasTextString = "metrics.json" }).ClickAsync();
        await Assertions.Expect(page.Locator("#preview-heading")).ToContainTextAsync("metrics.json");
        var text = preview.Locator("pre.preview-text");
        await Assertions.Expect(text).ToContainTextAsync("\"accuracy\": 0.91,");
        await Assertions.Expect(text).ToContainTextAsync("\"note\": \"<script>alert('json')</script>\"");
        Assert.Contains("\n  \"per_class\": {\n    \"cat\": {", await text.InnerTextAsync(), StringComparison.Ordinal);
        Assert.Equal(0, await preview.Locator("script, b").CountAsync());
        await ui.CheckAsync("run-file-json");

        // A long log: its first 64 KB, as text.
        await ui.VisitAsync(VisionPath("?file=logs/train.log"), "run-file-log");
        await Assertions.Expect(text).ToContainTextAsync("<script>alert('log')</script> starting");
        await Assertions.Expect(text).ToContainTextAsync("<b>ok</b>");
        await Assertions.Expect(preview.Locator(".preview-truncated")).ToContainTextAsync($"Showing the first 64 KB of {Berth.Web.Rendering.Format.Bytes(RunsFixture.VisionFiles["logs/train.log"].Length)}");
        Assert.Equal(0, await preview.Locator("script, b").CountAsync());

        // UTF-8 text, whole.
        await ui.VisitAsync(VisionPath("?file=README.md"), "run-file-text");
        await Assertions.Expect(text).ToContainTextAsync("Fine-tuned on the 2025-10 images ✓ 🚀");
        await Assertions.Expect(preview.Locator(".preview-truncated")).ToHaveCountAsync(0);

        // An image, drawn whole.
        await ui.VisitAsync(VisionPath("?file=plots/confusion.png"), "run-file-image");
        var image = preview.Locator("img.preview-image");
        await Assertions.Expect(image).ToHaveJSPropertyAsync("complete", true);
        Assert.Equal(200, await image.EvaluateAsync<int>("img => img.naturalWidth"));

        // A binary: not shown.
        await ui.VisitAsync(VisionPath("?file=model/weights.bin"), "run-file-binary");
        await Assertions.Expect(preview).ToContainTextAsync("A binary file (not UTF-8 text)");
        Assert.Equal(0, await text.CountAsync());

        // A path that is no file path: 400, said in the preview, the rest of the page stays. One the run does not have: the 404 page.
        await ui.VisitAsync(VisionPath("?file=" + Uri.EscapeDataString("../etc/passwd")), "run-file-bad-path", 400);
        await Assertions.Expect(preview.GetByRole(AriaRole.Alert)).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("table.run-files-table tbody tr")).ToHaveCountAsync(50);
        await ui.VisitAsync(VisionPath("?file=nope.txt"), "run-file-missing", 404);
        await Assertions.Expect(page.Locator(".error-message")).ToContainTextAsync("has no file 'nope.txt'");
        await ui.VisitAsync(VisionPath("?file=README.md"), "run-file-text-again");

        // Closing the preview goes back to the list.
        await page.GetByRole(AriaRole.Link, new() { Name = "Close" }).ClickAsync();
        await Assertions.Expect(preview).ToHaveCountAsync(0);
        Assert.Equal(0, dialogs);
    }

    [Fact]
    public async Task TheImageRouteServesOnlyRealImagesInASandboxToReaders()
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = runs.Server.Address };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", runs.Server.AdminToken);
        using var image = await http.GetAsync(VisionPath("/files/plots/loss.png"), Ct);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType?.MediaType);
        Assert.Equal(RunsFixture.VisionFiles["plots/loss.png"], await image.Content.ReadAsByteArrayAsync(Ct));
        Assert.Equal("default-src 'none'; sandbox", Assert.Single(image.Headers.GetValues("Content-Security-Policy")));
        Assert.Equal("nosniff", Assert.Single(image.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("inline", image.Content.Headers.ContentDisposition?.DispositionType);
        var etag = image.Headers.ETag!;
        Assert.Equal($"\"{Berth.Testing.ModelFolder.Sha256(RunsFixture.VisionFiles["plots/loss.png"])}\"", etag.Tag);

        // Revalidated by its digest.
        using var again = new HttpRequestMessage(HttpMethod.Get, VisionPath("/files/plots/loss.png"));
        again.Headers.IfNoneMatch.Add(etag);
        using (var notModified = await http.SendAsync(again, Ct))
        {
            Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        }

        // Bytes that are not what the name says, and files that are no image, go to the API's attachment download.
        foreach (var path in new[] { "plots/not-an-image.png", "metrics.json", "model/weights.bin" })
        {
            using var redirect = await http.GetAsync(VisionPath("/files/" + path), Ct);
            Assert.Equal(HttpStatusCode.Redirect, redirect.StatusCode);
            Assert.Equal($"/api/v1/models/acme/vision/runs/{runs.Vision.Id}/files/{path}", redirect.Headers.Location?.OriginalString);
        }

        using (var download = await runs.Server.Http.GetAsync($"/api/v1/models/acme/vision/runs/{runs.Vision.Id}/files/plots/not-an-image.png", Ct))
        {
            Assert.Equal("application/octet-stream", download.Content.Headers.ContentType?.MediaType);
            Assert.Equal("attachment", download.Content.Headers.ContentDisposition?.DispositionType);
        }

        // Missing files, other models' runs, strangers and anonymous visitors see nothing.
        using (var missing = await http.GetAsync(VisionPath("/files/plots/nope.png"), Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
        }

        using (var elsewhere = await http.GetAsync($"/acme/fraud/runs/{runs.Vision.Id}/files/plots/loss.png", Ct))
        {
            Assert.Equal(HttpStatusCode.NotFound, elsewhere.StatusCode);
        }

        using var anonymous = await runs.Server.Anonymous.GetAsync(VisionPath("/files/plots/loss.png"), Ct);
        Assert.NotEqual(HttpStatusCode.OK, anonymous.StatusCode);
        Assert.NotEqual("image/png", anonymous.Content.Headers.ContentType?.MediaType);

        await using var outsider = await SignedInAsync(nameof(TheImageRouteServesOnlyRealImagesInASandboxToReaders), "otto");
        var response = await outsider.Page.APIRequest.GetAsync(VisionPath("/files/plots/loss.png"));
        Assert.Equal(404, response.Status);
    }

    [Fact]
    public async Task AWriterRegistersTheRunAsAVersionAndErrorsStayInTheForm()
    {
        await using var ui = await SignedInAsync(nameof(AWriterRegistersTheRunAsAVersionAndErrorsStayInTheForm), "wendy");
        var page = ui.Page;
        await ui.VisitAsync(VisionPath(), "run-register-form");
        var form = page.Locator("section.run-register form");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Register as a version" })).ToBeVisibleAsync();
        // The run's folders are offered.
        Assert.Equal(["logs/", "model/", "plots/", "weights/"], await page.Locator("#register-folders option").EvaluateAllAsync<string[]>("os => os.map(o => o.value)"));

        // Bad input is explained in the form, with the API's status, and what was typed stays.
        await page.GetByLabel("Folder").FillAsync("nothing/");
        await page.GetByLabel("Semantic version").FillAsync("3.0.0");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register version" }).ClickAsync();
        await Assertions.Expect(page.Locator("#register-error")).ToContainTextAsync("has no file under 'nothing/'");
        await Assertions.Expect(page.GetByLabel("Semantic version")).ToHaveValueAsync("3.0.0");
        await ui.CheckAsync("run-register-error");

        var response = await page.APIRequest.GetAsync(page.Url);
        Assert.Equal(200, response.Status);

        await page.GetByLabel("Folder").FillAsync("model/");
        await page.GetByLabel("Semantic version").FillAsync("v1.x");
        var submitted = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Register version" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(400, submitted.Status);
        await Assertions.Expect(page.Locator("#register-error")).ToContainTextAsync("v1.x");

        // Registered: the version page, with the run's files under model/ and the run in its lineage.
        await page.GetByLabel("Semantic version").FillAsync("2.0.0");
        await page.GetByLabel("Aliases").FillAsync("candidate, vision-best");
        await page.GetByLabel("Description (markdown)").FillAsync("ResNet-50 from **resnet-50**");
        await page.GetByRole(AriaRole.Button, new() { Name = "Register version" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/acme/vision/versions/1", StringComparison.Ordinal));
        await Assertions.Expect(page.Locator(".flash-success")).ToHaveTextAsync("Registered run resnet-50 as acme/vision:1 (2.0.0).");
        await Assertions.Expect(page.Locator("table.files-table tbody th")).ToHaveTextAsync(["config.json", "weights.bin"]);
        await Assertions.Expect(page.Locator(".lineage a", new() { HasTextString = runs.Vision.Id })).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator(".chips")).ToContainTextAsync("candidate");
        await ui.CheckAsync("run-registered-version");

        // The same service as the API: the version's params and final metrics are the run's, the audit names wendy.
        var version = await runs.Server.Client.GetVersionAsync(Berth.Contracts.Naming.ModelReference.Parse("acme/vision:2.0.0"), cancellationToken: Ct);
        Assert.Equal(runs.Vision.Id, version.Lineage.RunId);
        Assert.Equal("0.001", version.Params["lr"]);
        Assert.True(version.Metrics.ContainsKey("val/auc"));
        Assert.Equal(["candidate", "vision-best"], version.Aliases);
        var audit = await runs.Server.Http.GetStringAsync("/api/v1/audit?action=run.register", Ct);
        Assert.Contains("\"actor\":\"wendy\"", audit, StringComparison.Ordinal);

        // The run page lists the version it produced; registering the same semantic version again is refused in the form.
        await ui.VisitAsync(VisionPath(), "run-with-version");
        await page.Locator(".run-versions a", new() { HasTextString = "v1" }).WaitForAsync();
        await Assertions.Expect(page.Locator(".run-versions")).ToContainTextAsync("v1 (2.0.0)");
        await page.GetByLabel("Semantic version").FillAsync("2.0.0");
        submitted = await page.RunAndWaitForResponseAsync(
            () => page.GetByRole(AriaRole.Button, new() { Name = "Register version" }).ClickAsync(), r => r.Request.Method == "POST");
        Assert.Equal(409, submitted.Status);
        await Assertions.Expect(page.Locator("#register-error")).ToContainTextAsync("already has version 2.0.0");

        // A run without files says how to attach some instead of offering the form.
        await ui.VisitAsync($"/acme/vision/runs/{runs.NoFiles.Id}", "run-without-files");
        await Assertions.Expect(page.Locator("section.run-files .empty-state")).ToContainTextAsync("No files attached to this run.");
        await Assertions.Expect(page.Locator("section.run-register")).ToContainTextAsync("has no files to register yet");
        Assert.Equal(0, await page.Locator("section.run-register form").CountAsync());
    }

    [Fact]
    public async Task AReaderSeesNoRegisterFormAndAForgedRegistrationIsRefused()
    {
        await using var ui = await SignedInAsync(nameof(AReaderSeesNoRegisterFormAndAForgedRegistrationIsRefused), "rita");
        var page = ui.Page;
        await ui.VisitAsync(VisionPath(), "run-files-as-reader");
        Assert.Equal(0, await page.GetByRole(AriaRole.Heading, new() { Name = "Register as a version" }).CountAsync());
        Assert.Equal(0, await page.Locator("main form[method='post']").CountAsync());
        var before = (await runs.Server.Client.GetRunAsync("acme", "vision", runs.Vision.Id, Ct)).Versions?.Count ?? 0;

        var token = await page.Locator("input[name='_csrf']").First.GetAttributeAsync("value");
        var forged = await page.APIRequest.PostAsync(VisionPath(), new()
        {
            Form = page.APIRequest.CreateFormData().Set("_handler", "register-run").Set("_csrf", token!).Set("Register.Version", "9.9.9"),
        });
        Assert.Equal(403, forged.Status);
        Assert.Contains("this needs the writer role", await forged.TextAsync(), StringComparison.Ordinal);

        // Without the anti-forgery token even a writer's post is refused.
        await using var writer = await SignedInAsync(nameof(AReaderSeesNoRegisterFormAndAForgedRegistrationIsRefused) + "-writer", "wendy");
        await writer.Page.GotoAsync(VisionPath());
        var unsigned = await writer.Page.APIRequest.PostAsync(VisionPath(), new()
        {
            Form = writer.Page.APIRequest.CreateFormData().Set("_handler", "register-run").Set("Register.Version", "9.9.8"),
        });
        Assert.Equal(400, unsigned.Status);
        Assert.Equal(before, (await runs.Server.Client.GetRunAsync("acme", "vision", runs.Vision.Id, Ct)).Versions?.Count ?? 0);
        await Assert.ThrowsAsync<Berth.Client.BerthProblemException>(() => runs.Server.Client.GetVersionAsync(Berth.Contracts.Naming.ModelReference.Parse("acme/vision:9.9.9"), cancellationToken: Ct));
    }
}

public sealed partial class RunPagesTests
{
    [Fact]
    public async Task AVersionPageShowsEvaluatedMetricsBesideThePushedOnesItsEvaluationsAndItsChildren()
    {
        var admin = runs.Server.Client;
        using (var folder = new Berth.Testing.ModelFolder(("model.bin", 64)))
        {
            await admin.PushAsync(folder.Root, "acme", "evalui", new Berth.Client.Transfers.PushOptions { Metrics = new Dictionary<string, double> { ["auc"] = 0.91, ["f1"] = 0.8 } }, cancellationToken: Ct);
        }

        var run = await admin.CreateRunAsync("acme", "evalui", new Berth.Contracts.Dtos.CreateRunRequest("holdout-eval"), Ct);
        var reference = Berth.Contracts.Naming.ModelReference.Parse("acme/evalui:1");
        await admin.EvaluateVersionAsync(reference, new Berth.Contracts.Dtos.CreateEvaluationRequest(new Dictionary<string, double> { ["auc"] = 0.95 }, "holdout-2026-11", run.Id, "<b>nightly</b> run"), cancellationToken: Ct);
        using (var folder = new Berth.Testing.ModelFolder(("distilled.bin", 64)))
        {
            await admin.PushAsync(folder.Root, "acme", "evalui-small", new Berth.Client.Transfers.PushOptions { Lineage = new Berth.Contracts.Dtos.Lineage(Parents: ["acme/evalui:1"]) }, cancellationToken: Ct);
        }

        await using var ui = await SignedInAsync(nameof(AVersionPageShowsEvaluatedMetricsBesideThePushedOnesItsEvaluationsAndItsChildren), "rita");
        var page = ui.Page;
        await ui.VisitAsync("/acme/evalui/versions/1", "version-evaluated");
        var auc = Row(page, "metrics-heading", "auc");
        await Assertions.Expect(auc.Locator("td.num")).ToHaveTextAsync("0.95");
        await Assertions.Expect(auc.Locator(".metric-source")).ToContainTextAsync("evaluated on holdout-2026-11");
        await Assertions.Expect(auc.Locator(".metric-source")).ToContainTextAsync("pushed 0.91");
        await Assertions.Expect(Row(page, "metrics-heading", "f1").Locator(".metric-source")).ToHaveTextAsync("pushed");

        // The evaluation itself: who, on what, in which run (linked), its metrics, its note as text.
        var evaluations = page.Locator("section[aria-labelledby='evaluations-heading']");
        await Assertions.Expect(evaluations.Locator(".timeline-item")).ToHaveCountAsync(1);
        await Assertions.Expect(evaluations).ToContainTextAsync("admin evaluated it on holdout-2026-11 in run " + run.Id);
        await Assertions.Expect(evaluations.Locator(".chip")).ToHaveTextAsync(["auc0.95"]);
        await Assertions.Expect(evaluations.Locator("q")).ToHaveTextAsync("<b>nightly</b> run");
        await auc.Locator(".metric-source a").ClickAsync();
        await Assertions.Expect(page.Locator(".timeline-item:target")).ToHaveCountAsync(1);

        // Its children, linked.
        await page.Locator(".lineage-children a", new() { HasTextString = "acme/evalui-small:1" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/acme/evalui-small/versions/1", StringComparison.Ordinal));
        await ui.CheckAsync("version-child");
        await page.Locator(".lineage a", new() { HasTextString = "acme/evalui:1" }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith("/acme/evalui/versions/1", StringComparison.Ordinal));
        await page.Locator(".evaluations a", new() { HasTextString = run.Id }).ClickAsync();
        await page.WaitForURLAsync(url => url.EndsWith($"/acme/evalui/runs/{run.Id}", StringComparison.Ordinal));
    }
}
