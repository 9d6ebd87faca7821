using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// Failures exit non-zero with one 'error:' line on stderr: the server's message and code (exit 1),
/// or the broken rule for a wrong command line (exit 2). Never a stack trace.
/// </summary>
public sealed class ErrorTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    /// <summary>A user who talks to the test server through BERTH_URL and BERTH_TOKEN.</summary>
    private CliUser User()
    {
        var user = new CliUser();
        user.Environment["BERTH_URL"] = Server.Url;
        user.Environment["BERTH_TOKEN"] = Server.AdminToken;
        return user;
    }

    [Fact]
    public async Task AnUnknownModelReportsTheServersMessageAndCode()
    {
        using var user = User();
        using var model = new ModelFolder(("m.bin", 10));
        (await user.RunAsync("push", model.Root, "errors/exists")).Succeeded();
        var result = await user.RunAsync("show", "errors/nope:1");
        result.Failed(1, "(model_not_found)");
        Assert.Contains("errors/nope", result.Stderr, StringComparison.Ordinal);
        (await user.RunAsync("show", "errors/nope", "--json")).Failed(1, "(model_not_found)");
        (await user.RunAsync("history", "errors/nope")).Failed(1, "(model_not_found)");
    }

    [Theory]
    [InlineData("show", "Acme/fraud", "Invalid namespace 'Acme'")]
    [InlineData("show", "acme/Fraud", "Invalid model name 'Fraud'")]
    [InlineData("show", "acme/fraud:01", "Invalid version number '01'")]
    [InlineData("show", "acme/fraud@md5:abc", "'@' must be followed by sha256:<hex>")]
    [InlineData("pull", "acme/fraud@sha256:abc", "Invalid digest selector")]
    [InlineData("show", "acme/team/fraud", "use namespace/model, with one '/'")]
    [InlineData("stage", "acme/fraud:1", "prod!", "Invalid stage 'prod!'")]
    [InlineData("alias", "set", "acme/fraud:1", "v2", "may not look like a version")]
    [InlineData("alias", "rm", "acme/fraud:1", "champion", "takes a model (namespace/model), not a version")]
    [InlineData("history", "acme/fraud:3", "takes a model (namespace/model), not a version")]
    [InlineData("ls", "acme/fraud:3", "takes a model (namespace/model), not a version")]
    [InlineData("show", "fraud:1", "has no namespace and no default namespace is set")]
    [InlineData("rm", "acme/fraud", "needs it named explicitly")]
    [InlineData("tag", "acme/fraud:1", "validated", "expected tag as key=value")]
    [InlineData("tag", "acme/fraud:1", "Nothing to do")]
    [InlineData("search", "x", "--limit", "0", "--limit must be a positive number")]
    [InlineData("token", "create", "--scope", "root", "Argument 'root' not recognized")]
    [InlineData("history", "acme/fraud", "--kind", "moved", "Argument 'moved' not recognized")]
    [InlineData("show", "acme/fraud", "--no-such-option", "--no-such-option")]
    [InlineData("frobnicate", "frobnicate")]
    public async Task AWrongCommandLineIsAUsageErrorThatNamesTheRule(params string[] argsAndMessage)
    {
        using var user = User();
        // A dead server: usage errors are found before anything is sent.
        user.Environment["BERTH_URL"] = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        var result = await user.RunAsync(argsAndMessage[..^1]);
        result.Failed(2, argsAndMessage[^1]);
    }

    [Theory]
    [InlineData("--metric", "auc=0,931", "'0,931' is not a number")]
    [InlineData("--metric", "auc=high", "'high' is not a number")]
    [InlineData("--metric", "auc", "expected metric as key=value")]
    [InlineData("--param", "lr", "expected param as key=value")]
    [InlineData("--tag", "=risk", "expected tag as key=value")]
    [InlineData("--tag", "te am=risk", "Invalid tag name 'te am'")]
    [InlineData("--version", "1.2", "Invalid semantic version '1.2'")]
    [InlineData("--alias", "latest", "reserved")]
    [InlineData("--parent", "Base:1", "Invalid model name 'Base'")]
    [InlineData("--dataset", "s3://x@sha256:", "is not a digest")]
    [InlineData("--parallel", "0", "--parallel must be between 1 and 64")]
    public async Task InvalidPushMetadataIsRejectedBeforeAnythingIsSent(string option, string value, string message)
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 100));
        user.Environment["BERTH_URL"] = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        (await user.RunAsync("push", model.Root, "errors/push", option, value)).Failed(2, message);
    }

    [Fact]
    public async Task PushingAFolderThatDoesNotExistIsAUsageError()
    {
        using var user = User();
        (await user.RunAsync("push", Path.Combine(user.Root, "missing"), "errors/push")).Failed(2, "does not exist");
    }

    [Fact]
    public async Task AMetricWithAnInvariantNumberIsAcceptedWhateverTheCulture()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 100));
        user.Environment["LANG"] = "de_DE.UTF-8";
        user.Environment["LC_ALL"] = "de_DE.UTF-8";
        var pushed = (await user.RunAsync("push", model.Root, "errors/culture", "--metric", "loss=1.5e-3", "--metric", "auc=0.5", "--json")).Succeeded().Json;
        Assert.Equal(0.0015, pushed.GetProperty("version").GetProperty("metrics").GetProperty("loss").GetDouble());
    }

    [Fact]
    public async Task WithoutATokenTheServerAsksForOne()
    {
        using var user = User();
        user.Environment["BERTH_TOKEN"] = null;
        (await user.RunAsync("ls")).Failed(1, "(token_missing)");
    }

    [Fact]
    public async Task AWrongTokenIsReportedAsInvalid()
    {
        using var user = User();
        user.Environment["BERTH_TOKEN"] = "berth_" + new string('a', 48);
        var result = await user.RunAsync("whoami");
        result.Failed(1, "(token_invalid)");
        Assert.Contains("hint: ", result.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AServerThatIsDownGetsAClearMessage()
    {
        using var user = User();
        var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        user.Environment["BERTH_URL"] = url;
        var result = await user.RunAsync("ls");
        result.Failed(1, $"Cannot reach the Berth server at {url}");
        Assert.Contains("is the server running?", result.Stderr, StringComparison.Ordinal);
        (await user.RunAsync("show", "acme/fraud:1", "--json")).Failed(1, "Cannot reach the Berth server");
    }

    [Fact]
    public async Task WithoutLoginOrEnvironmentTheCliSaysHowToLogIn()
    {
        using var user = new CliUser();
        (await user.RunAsync("ls")).Failed(1, "Not logged in: run 'berth login");
    }

    [Fact]
    public async Task PullingADeletedVersionFailsAndWritesNothing()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 2048));
        (await user.RunAsync("push", model.Root, "errors/deleted")).Succeeded();
        (await user.RunAsync("rm", "errors/deleted:1")).Succeeded();
        var output = Path.Combine(user.Root, "out");
        (await user.RunAsync("pull", "errors/deleted:1", "-o", output)).Failed(1, "(version_deleted)");
        Assert.False(Directory.Exists(output) && Directory.EnumerateFileSystemEntries(output).Any());
    }

    [Fact]
    public async Task AnUnknownStageIsReportedByTheServerWithTheStagesThatExist()
    {
        using var user = User();
        using var model = new ModelFolder(("weights.bin", 10));
        (await user.RunAsync("push", model.Root, "errors/stages")).Succeeded();
        var result = await user.RunAsync("stage", "errors/stages:1", "canary");
        result.Failed(1, "(invalid_stage)");
        Assert.Contains("production", result.Stderr, StringComparison.Ordinal);
    }
}
