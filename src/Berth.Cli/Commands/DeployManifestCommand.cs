using System.CommandLine;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Berth.Cli.Infrastructure;
using Berth.Cli.Serving;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth deploy manifest acme/fraud:production --target kserve|kubernetes</c>: prints Kubernetes objects that serve the
/// version the selector names now, pinned by digest (<see cref="ServingManifests"/>).
/// </summary>
internal static partial class DeployManifestCommand
{
    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("version") { Description = "The version: acme/fraud:production, acme/fraud:champion, acme/fraud:7 …" };
        var target = new Option<string>("--target", "-t") { Description = "kserve (an InferenceService of the version's model car image) or kubernetes (a Deployment and Service running berth serve-model).", Required = true };
        target.AcceptOnlyFromAmong("kserve", "kubernetes");
        var name = new Option<string>("--name") { Description = "The objects' name (default: the model's name, made a DNS label)." };
        var k8sNamespace = new Option<string>("--k8s-namespace") { Description = "The Kubernetes namespace to put them in (default: none, kubectl's current one)." };
        var image = new Option<string>("--image") { Description = "kubernetes: the berth image to run (default: berth; see deploy/Dockerfile).", DefaultValueFactory = _ => "berth" };
        var port = new Option<int>("--port") { Description = "kubernetes: the port serve-model listens on and the Service exposes.", DefaultValueFactory = _ => ServeModelOptions.DefaultPort };
        var replicas = new Option<int>("--replicas") { Description = "kubernetes: how many pods serve the model.", DefaultValueFactory = _ => 1 };
        var watch = new Option<bool>("--watch") { Description = "kubernetes: follow the selector (serve-model --watch) instead of pinning the version's digest." };
        var environment = new Option<string>("--environment", "-e") { Description = "kubernetes: the environment serve-model records its deployment in." };
        var tokenSecret = new Option<string>("--token-secret") { Description = "kubernetes: the Secret whose 'token' key holds the API token serve-model uses.", DefaultValueFactory = _ => "berth-serving" };
        var output = new Option<string>("--output", "-o") { Description = "Write the manifest to this file instead of stdout." };
        var command = new Command("manifest", "Print a KServe InferenceService or a Kubernetes Deployment and Service that serve a version, pinned by digest.")
        {
            reference, target, name, k8sNamespace, image, port, replicas, watch, environment, tokenSecret, output,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var text = parse.GetValue(reference)!;
            var version = context.Reference(text);
            var kind = parse.GetValue(target)!;
            if (parse.GetValue(name) is { } given && !DnsLabel().IsMatch(given))
            {
                throw new UsageException($"--name '{given}' is not a DNS label (a-z, 0-9 and '-', at most 63, starting with a letter).");
            }

            if (parse.GetValue(k8sNamespace) is { } kns && !DnsLabel().IsMatch(kns))
            {
                throw new UsageException($"--k8s-namespace '{kns}' is not a DNS label.");
            }

            if (parse.GetValue(environment) is { } env)
            {
                DeployCommands.CheckedEnvironment(env);
            }

            if (parse.GetValue(port) is < 1 or > 65535 || parse.GetValue(replicas) is < 0 or > 1000)
            {
                throw new UsageException("--port must be between 1 and 65535, --replicas between 0 and 1000.");
            }

            if (parse.GetValue(watch) && (kind != "kubernetes" || version.Selector.Kind is not (SelectorKind.Name or SelectorKind.Latest)))
            {
                throw new UsageException("--watch is for --target kubernetes, with an alias, a stage or the latest version.");
            }

            var info = await context.Client.GetVersionAsync(version, withFiles: true, cancellationToken);
            ModelLoader.OnnxFile(info, null);
            var settings = new ManifestSettings(
                parse.GetValue(name) ?? DnsName(info.Model), parse.GetValue(k8sNamespace), $"{info.Namespace}/{info.Model}{version.Selector.ToReferenceSuffix()}",
                parse.GetValue(image)!, parse.GetValue(port), parse.GetValue(replicas), parse.GetValue(watch), parse.GetValue(environment), parse.GetValue(tokenSecret)!);
            var server = context.Server!.TrimEnd('/');
            var yaml = kind == "kserve"
                ? ServingManifests.KServe(info, settings, await ModelCarImageAsync(server, context.Token, info, cancellationToken))
                : ServingManifests.Kubernetes(info, settings, server);
            if (parse.GetValue(output) is { } file)
            {
                await File.WriteAllTextAsync(file, yaml, cancellationToken);
                Output.Hint($"wrote {file}: apply it with 'kubectl apply -f {file}'.");
            }
            else
            {
                Console.Out.Write(yaml);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The version's model car image by digest, <c>host/ns/model/modelcar@sha256:…</c>, from the registry's OCI API.</summary>
    private static async Task<string> ModelCarImageAsync(string server, string? token, VersionInfo version, CancellationToken cancellationToken)
    {
        var baseUri = new Uri(server + "/");
        var repository = $"{version.Namespace}/{version.Model}/modelcar";
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(60) };
        using var request = new HttpRequestMessage(HttpMethod.Head, new Uri(baseUri, $"v2/{repository}/manifests/{version.Number}"));
        request.Headers.Accept.ParseAdd("application/vnd.oci.image.manifest.v1+json");
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        using var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode || !response.Headers.TryGetValues("Docker-Content-Digest", out var digests) || digests.FirstOrDefault() is not { } digest)
        {
            throw new CliException($"The registry did not give the model car image of {version.Namespace}/{version.Model}:{version.Number} (HTTP {(int)response.StatusCode} for {repository}:{version.Number}).",
                hint: "its OCI API (docs/oci.md) serves the model car images KServe pulls; use --target kubernetes to serve with berth serve-model instead.");
        }

        var host = baseUri.IsDefaultPort ? baseUri.Host : $"{baseUri.Host}:{baseUri.Port}";
        return $"{host}/{repository}@{digest}";
    }

    private static string DnsName(string model)
    {
        var name = NotDns().Replace(model.ToLowerInvariant(), "-").Trim('-');
        name = name.Length > 63 ? name[..63].TrimEnd('-') : name;
        return name.Length == 0 || !char.IsAsciiLetterLower(name[0]) ? "m-" + name : name;
    }

    [GeneratedRegex("^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("[^a-z0-9-]+")]
    private static partial Regex NotDns();
}
