using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Naming;

namespace Berth.Api.Tests.Oci;

/// <summary>
/// Round trips with Debian's skopeo, a real OCI client, against a real server: a version copied out to an OCI layout is
/// a ModelPack artifact whose layers are byte-identical to <c>berth pull</c>; a ModelPack layout copied in becomes a
/// version; login with a token works and a wrong one fails cleanly. (scripts/test.sh installs skopeo.)
/// </summary>
public sealed class SkopeoTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private string Host => Server.Address.Authority;

    private static async Task<(int Code, string Output)> SkopeoAsync(params string[] args)
    {
        var start = new ProcessStartInfo("skopeo") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        // No proxy, no user configuration: the test talks to 127.0.0.1 only.
        start.Environment["HOME"] = TempFolder.Create("skopeo-home");
        start.Environment.Remove("http_proxy");
        start.Environment.Remove("https_proxy");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync(Ct);
        var error = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        TempFolder.Delete(start.Environment["HOME"]!);
        return (process.ExitCode, await output + await error);
    }

    [Fact]
    public async Task ACopiedOutVersionIsAModelPackWhoseLayersAreTheFilesBerthPullWrites()
    {
        using var folder = new ModelFolder(("model.safetensors", 2 * 1024 * 1024 + 5), ("config.json", 512), ("nested/dir/vocab.txt", 3_000));
        var pushed = await Server.Client.PushAsync(folder.Root, "skopeo", "fraud", new PushOptions { Version = "1.4.0" }, cancellationToken: Ct);
        await Server.Client.ChangeStageAsync(ModelReference.Parse($"skopeo/fraud:{pushed.Version.Number}"), "production", cancellationToken: Ct);
        var layout = TempFolder.Create("skopeo-layout");
        var pulled = TempFolder.Create("berth-pull");
        try
        {
            var (code, output) = await SkopeoAsync("copy", "--src-tls-verify=false", "--src-creds", $"admin:{Server.AdminToken}",
                $"docker://{Host}/skopeo/fraud:production", $"oci:{layout}:production");
            Assert.True(code == 0, output);

            await Server.Client.PullAsync(ModelReference.Parse("skopeo/fraud:production"), pulled, new PullOptions(), cancellationToken: Ct);
            using var index = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(layout, "index.json"), Ct));
            var manifestDigest = index.RootElement.GetProperty("manifests")[0].GetProperty("digest").GetString()!;
            using var manifest = JsonDocument.Parse(await File.ReadAllBytesAsync(Blob(layout, manifestDigest), Ct));
            Assert.Equal("application/vnd.cncf.model.manifest.v1+json", manifest.RootElement.GetProperty("artifactType").GetString());
            var paths = new List<string>();
            foreach (var layer in manifest.RootElement.GetProperty("layers").EnumerateArray())
            {
                var path = layer.GetProperty("annotations").GetProperty("org.cncf.model.filepath").GetString()!;
                paths.Add(path);
                Assert.Equal(await File.ReadAllBytesAsync(Path.Combine(pulled, path), Ct), await File.ReadAllBytesAsync(Blob(layout, layer.GetProperty("digest").GetString()!), Ct));
            }

            Assert.Equal(["config.json", "model.safetensors", "nested/dir/vocab.txt"], paths);

            // The same digest as the registry serves for the version's number.
            using var http = Oci.Basic(Server, "admin", Server.AdminToken);
            Assert.Equal(manifestDigest, (await Oci.GetManifestAsync(http, "skopeo/fraud", $"{pushed.Version.Number}")).Digest);
        }
        finally
        {
            TempFolder.Delete(layout);
            TempFolder.Delete(pulled);
        }
    }

    [Fact]
    public async Task AModelPackLayoutCopiedInBecomesAVersionThatBerthPulls()
    {
        var layout = TempFolder.Create("skopeo-modelpack");
        var pulled = TempFolder.Create("berth-pull");
        try
        {
            var weights = ModelFolder.Bytes(1_500_000, 7);
            var readme = Encoding.UTF8.GetBytes("# tiny\n");
            var config = Encoding.UTF8.GetBytes("{\"descriptor\":{\"name\":\"tiny\",\"description\":\"from a layout\"},\"config\":{\"format\":\"safetensors\"},\"modelfs\":{\"type\":\"layers\",\"diffIds\":[]}}");
            var manifest = Oci.ModelPack(Oci.Digest(config), config.Length, [("weights/model.safetensors", Oci.Digest(weights), weights.Length), ("README.md", Oci.Digest(readme), readme.Length)]);
            await WriteLayoutAsync(layout, "2.0.0", manifest, weights, readme, config);
            var (code, output) = await SkopeoAsync("copy", "--dest-tls-verify=false", "--dest-creds", $"admin:{Server.AdminToken}",
                $"oci:{layout}:2.0.0", $"docker://{Host}/skopeo/tiny:2.0.0");
            Assert.True(code == 0, output);

            var version = await Server.Client.GetVersionAsync(ModelReference.Parse("skopeo/tiny:2.0.0"), withFiles: true, Ct);
            Assert.Equal("from a layout", version.Description);
            await Server.Client.PullAsync(ModelReference.Parse("skopeo/tiny:2.0.0"), pulled, new PullOptions(), cancellationToken: Ct);
            Assert.Equal(weights, await File.ReadAllBytesAsync(Path.Combine(pulled, "weights", "model.safetensors"), Ct));
            Assert.Equal(readme, await File.ReadAllBytesAsync(Path.Combine(pulled, "README.md"), Ct));

            // Inspecting it gives back the pushed digest.
            var (inspected, json) = await SkopeoAsync("inspect", "--raw", "--tls-verify=false", "--creds", $"admin:{Server.AdminToken}", $"docker://{Host}/skopeo/tiny:2.0.0");
            Assert.True(inspected == 0, json);
            Assert.Equal(Oci.Digest(manifest), Oci.Digest(Encoding.UTF8.GetBytes(json.Trim())));
        }
        finally
        {
            TempFolder.Delete(layout);
            TempFolder.Delete(pulled);
        }
    }

    [Fact]
    public async Task LoginWithATokenWorksAndAWrongOneFailsCleanly()
    {
        await Server.CreateNamespaceIfMissingAsync("skopeo");
        await Server.PushSmallAsync("skopeo", "login");
        var auth = Path.Combine(TempFolder.Create("skopeo-auth"), "auth.json");
        try
        {
            var (ok, okOutput) = await SkopeoAsync("login", "--tls-verify=false", "--authfile", auth, "-u", "admin", "-p", Server.AdminToken, Host);
            Assert.True(ok == 0, okOutput);
            Assert.Contains("Login Succeeded", okOutput, StringComparison.Ordinal);
            var (listed, tags) = await SkopeoAsync("list-tags", "--tls-verify=false", "--authfile", auth, $"docker://{Host}/skopeo/login");
            Assert.True(listed == 0, tags);
            Assert.Contains("\"latest\"", tags, StringComparison.Ordinal);

            var (bad, badOutput) = await SkopeoAsync("login", "--tls-verify=false", "--authfile", auth, "-u", "admin", "-p", "berth_" + new string('z', 48), Host);
            Assert.NotEqual(0, bad);
            Assert.True(new[] { "401", "unauthorized", "invalid username/password" }.Any(m => badOutput.Contains(m, StringComparison.OrdinalIgnoreCase)), badOutput);
            var (denied, deniedOutput) = await SkopeoAsync("inspect", "--tls-verify=false", "--creds", "admin:wrong", $"docker://{Host}/skopeo/login:latest");
            Assert.NotEqual(0, denied);
            Assert.Contains("unauthorized", deniedOutput, StringComparison.OrdinalIgnoreCase);
        }
        finally
        {
            TempFolder.Delete(Path.GetDirectoryName(auth)!);
        }
    }

    private static string Blob(string layout, string digest) => Path.Combine(layout, "blobs", "sha256", digest["sha256:".Length..]);

    /// <summary>An OCI image layout holding one manifest (tagged) and its blobs, as an OCI tool writes it.</summary>
    private static async Task WriteLayoutAsync(string layout, string tag, byte[] manifest, params byte[][] blobs)
    {
        Directory.CreateDirectory(Path.Combine(layout, "blobs", "sha256"));
        await File.WriteAllTextAsync(Path.Combine(layout, "oci-layout"), "{\"imageLayoutVersion\":\"1.0.0\"}", Ct);
        foreach (var blob in blobs.Append(manifest))
        {
            await File.WriteAllBytesAsync(Blob(layout, Oci.Digest(blob)), blob, Ct);
        }

        await File.WriteAllTextAsync(Path.Combine(layout, "index.json"),
            $$"""{"schemaVersion":2,"manifests":[{"mediaType":"{{Oci.ManifestType}}","digest":"{{Oci.Digest(manifest)}}","size":{{manifest.Length}},"annotations":{"org.opencontainers.image.ref.name":"{{tag}}" """.TrimEnd() + "}}]}", Ct);
    }
}
