using System.Net.Http.Headers;
using Berth.Cli.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace Berth.Cli.Tests.Serving;

/// <summary>
/// <c>berth deploy manifest … --target kserve|kubernetes</c>: the manifests parse as YAML and carry what KServe and
/// Kubernetes require (apiVersion, kind, metadata.name, the predictor's model format and storage URI; a Deployment whose
/// selector matches its pods, a container running serve-model, a Service selecting them), pinned by digest and labelled
/// with the version.
/// </summary>
public sealed class DeployManifestTests(ServerFixture fixture)
{
    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task KServeAndKubernetesManifestsServeTheVersionPinnedByDigest()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        (await user.RunAsync("push", await ServingModels.FolderAsync("classifier"), "manifests/fraud_v2", "--version", "1.4.0", "--tag", "team=risk")).Succeeded();
        (await user.RunAsync("stage", "manifests/fraud_v2:1", "production")).Succeeded();
        var version = (await user.RunAsync("show", "manifests/fraud_v2:1", "--json")).Succeeded().Json;
        var manifestDigest = version.GetProperty("manifestDigest").GetString()!;

        // KServe: the model car image, by the digest the registry's OCI API gives for it.
        var kserve = Documents((await user.RunAsync("deploy", "manifest", "manifests/fraud_v2:production", "--target", "kserve", "--k8s-namespace", "ml")).Succeeded().Stdout);
        var service = Assert.Single(kserve);
        Assert.Equal("serving.kserve.io/v1beta1", Scalar(service, "apiVersion"));
        Assert.Equal("InferenceService", Scalar(service, "kind"));
        Assert.Equal("fraud-v2", Scalar(service, "metadata", "name"));
        Assert.Equal("ml", Scalar(service, "metadata", "namespace"));
        Assert.Equal("1", Scalar(service, "metadata", "labels", "berth.registry/version"));
        Assert.Equal("manifests", Scalar(service, "metadata", "labels", "berth.registry/namespace"));
        Assert.Equal(manifestDigest, Scalar(service, "metadata", "annotations", "berth.registry/manifest-digest"));
        Assert.Equal("risk", Scalar(service, "metadata", "annotations", "berth.registry/tag.team"));
        Assert.Equal("onnx", Scalar(service, "spec", "predictor", "model", "modelFormat", "name"));
        Assert.Equal("v2", Scalar(service, "spec", "predictor", "model", "protocolVersion"));
        var host = new Uri(Server.Url).Authority;
        var storageUri = Scalar(service, "spec", "predictor", "model", "storageUri")!;
        Assert.Matches($"^oci://{System.Text.RegularExpressions.Regex.Escape(host)}/manifests/fraud_v2/modelcar@sha256:[0-9a-f]{{64}}$", storageUri);
        using (var http = new HttpClient { BaseAddress = new Uri(Server.Url) })
        {
            using var request = new HttpRequestMessage(HttpMethod.Head, $"/v2/manifests/fraud_v2/modelcar/manifests/{storageUri[(storageUri.IndexOf('@', StringComparison.Ordinal) + 1)..]}");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Server.AdminToken);
            request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
            using var response = await http.SendAsync(request, TestContext.Current.CancellationToken);
            Assert.True(response.IsSuccessStatusCode, $"the image {storageUri} is not in the registry: {response.StatusCode}");
        }

        // Kubernetes: serve-model pinned to the manifest digest (or following the stage with --watch), behind a Service.
        var objects = Documents((await user.RunAsync("deploy", "manifest", "manifests/fraud_v2:production", "--target", "kubernetes", "--image", "registry.acme.io/berth:0.1.0",
            "--environment", "prod-eu", "--replicas", "2")).Succeeded().Stdout);
        Assert.Equal(2, objects.Count);
        var (deployment, svc) = (objects[0], objects[1]);
        Assert.Equal(("apps/v1", "Deployment"), (Scalar(deployment, "apiVersion"), Scalar(deployment, "kind")));
        Assert.Equal(("v1", "Service"), (Scalar(svc, "apiVersion"), Scalar(svc, "kind")));
        Assert.Equal("2", Scalar(deployment, "spec", "replicas"));
        var selector = Node(deployment, "spec", "selector", "matchLabels");
        var podLabels = Node(deployment, "spec", "template", "metadata", "labels");
        foreach (var (key, value) in selector.Children)
        {
            Assert.Equal(value.ToString(), podLabels.Children[key].ToString());
        }

        Assert.Equal(Scalar(deployment, "spec", "selector", "matchLabels", "app.kubernetes.io/name"), Scalar(svc, "spec", "selector", "app.kubernetes.io/name"));
        var container = (YamlMappingNode)((YamlSequenceNode)Node(deployment, "spec", "template", "spec").Children["containers"]).Children[0];
        Assert.Equal("registry.acme.io/berth:0.1.0", container.Children["image"].ToString());
        Assert.Equal(["serve-model", $"manifests/fraud_v2@{manifestDigest}", "--host", "0.0.0.0", "--port", "8080", "--environment", "prod-eu"],
            ((YamlSequenceNode)container.Children["args"]).Children.Select(a => a.ToString()));
        var env = ((YamlSequenceNode)container.Children["env"]).Children.Cast<YamlMappingNode>().ToDictionary(e => e.Children["name"].ToString());
        Assert.Equal(Server.Url.TrimEnd('/'), env["BERTH_URL"].Children["value"].ToString());
        Assert.Equal("token", ((YamlMappingNode)((YamlMappingNode)env["BERTH_TOKEN"].Children["valueFrom"]).Children["secretKeyRef"]).Children["key"].ToString());
        Assert.Equal("/v2/health/ready", ((YamlMappingNode)((YamlMappingNode)container.Children["readinessProbe"]).Children["httpGet"]).Children["path"].ToString());
        Assert.Equal("8080", ((YamlMappingNode)((YamlSequenceNode)Node(svc, "spec").Children["ports"]).Children[0]).Children["port"].ToString());

        var watching = Documents((await user.RunAsync("deploy", "manifest", "manifests/fraud_v2:production", "--target", "kubernetes", "--watch")).Succeeded().Stdout)[0];
        var args = ((YamlSequenceNode)((YamlMappingNode)((YamlSequenceNode)Node(watching, "spec", "template", "spec").Children["containers"]).Children[0]).Children["args"]).Children.Select(a => a.ToString()).ToList();
        Assert.Equal(["serve-model", "manifests/fraud_v2:production", "--host", "0.0.0.0", "--port", "8080", "--watch"], args);

        // Refusals.
        (await user.RunAsync("deploy", "manifest", "manifests/fraud_v2:1", "--target", "kubernetes", "--watch")).Failed(2, "--watch is for --target kubernetes, with an alias, a stage or the latest version.");
        (await user.RunAsync("deploy", "manifest", "manifests/fraud_v2:1", "--target", "triton")).Failed(2, "Argument 'triton' not recognized");
        using var plain = new Berth.Testing.ModelFolder(("weights.bin", 100));
        (await user.RunAsync("push", plain.Root, "manifests/plain")).Succeeded();
        (await user.RunAsync("deploy", "manifest", "manifests/plain:1", "--target", "kserve")).Failed(1, "manifests/plain:1 has no ONNX model (.onnx file)");
    }

    private static List<YamlMappingNode> Documents(string yaml)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(yaml));
        return [.. stream.Documents.Select(d => (YamlMappingNode)d.RootNode)];
    }

    private static YamlMappingNode Node(YamlMappingNode root, params string[] path) =>
        path.Aggregate(root, (node, key) => (YamlMappingNode)node.Children[new YamlScalarNode(key)]);

    private static string? Scalar(YamlMappingNode root, params string[] path)
    {
        var parent = Node(root, path[..^1]);
        return parent.Children.TryGetValue(new YamlScalarNode(path[^1]), out var value) ? value.ToString() : null;
    }
}
