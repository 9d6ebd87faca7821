using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Berth.Testing.Insight;
using Berth.Web.Tests.Support;
using Microsoft.Playwright;

namespace Berth.Web.Tests;

/// <summary>
/// The version page's "Inside the model" section and its scan badge, in a real browser: a PyTorch checkpoint's
/// framework, parameters and precision; a version with a pickle that calls os.system, with the red badge and the file
/// and global named.
/// </summary>
[Collection(BrowserCollection.Name)]
public sealed class InsightPageTests(BrowserFixture browser, CatalogFixture catalog) : IClassFixture<CatalogFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<VersionInfo> PushAsync(string model, params (string Corpus, string As)[] files)
    {
        using var folder = new ModelFolder();
        foreach (var (corpus, target) in files)
        {
            var path = Path.Combine(folder.Root, target);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.Copy(await ModelCorpus.FileAsync(corpus), path);
        }

        var version = (await catalog.Server.Client.PushAsync(folder.Root, "acme", model, new PushOptions { AllowUnchanged = true }, cancellationToken: Ct)).Version;
        await Eventually.WaitForAsync(() => catalog.Server.Client.GetVersionInsightAsync(ModelReference.Parse(version.Reference), Ct),
            i => i.State != InsightStates.Pending, "The insight worker");
        return version;
    }

    [Fact]
    public async Task AVersionPageShowsWhatIsInsideAndADangerousPickleInRed()
    {
        var safe = await PushAsync("vision", ("torch/conv_bn.bin", "pytorch_model.bin"), ("onnx/model.onnx", "export/model.onnx"));
        var evil = await PushAsync("vision", ("torch/conv_bn.bin", "pytorch_model.bin"), ("evil/reduce.pkl", "preprocess/scaler.pkl"));
        await using var ui = await UiSession.OpenAsync(browser, catalog.Server, nameof(AVersionPageShowsWhatIsInsideAndADangerousPickleInRed));
        await ui.SignInAsync("admin", UiUsers.Password);
        var page = ui.Page;

        await ui.VisitAsync($"/acme/vision/versions/{safe.Number}", "version-insight");
        var section = page.Locator("section[aria-labelledby=insight-heading]");
        await Assertions.Expect(section).ToContainTextAsync("Framework");
        await Assertions.Expect(section.Locator("table.insight-summary")).ToContainTextAsync("pytorch");
        await Assertions.Expect(section.Locator("table.insight-summary")).ToContainTextAsync("129");
        await Assertions.Expect(section.Locator("table.insight-summary")).ToContainTextAsync("float32");
        await Assertions.Expect(section.Locator("table.insight-files")).ToContainTextAsync("export/model.onnx");
        await Assertions.Expect(page.Locator(".page-header .scan")).ToHaveCountAsync(0);

        await ui.VisitAsync($"/acme/vision/versions/{evil.Number}", "version-insight-dangerous");
        await Assertions.Expect(page.Locator(".page-header .scan-dangerous")).ToHaveTextAsync("dangerous pickle");
        var alert = page.Locator(".insight-danger");
        await Assertions.Expect(alert).ToContainTextAsync("preprocess/scaler.pkl");
        await Assertions.Expect(alert).ToContainTextAsync("posix.system");
        await Assertions.Expect(page.Locator("table.insight-files .verdict-dangerous")).ToHaveTextAsync("dangerous");
    }
}
