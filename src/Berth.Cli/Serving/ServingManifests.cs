using System.Globalization;
using System.Text;
using System.Text.Json;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Serving;

/// <summary>
/// <c>berth deploy manifest</c>'s output: Kubernetes objects that serve a version, pinned by digest and labelled with
/// the version (namespace, model, number; its reference, digests and tags as annotations). <see cref="KServe"/> writes
/// an <c>InferenceService</c> whose model is the version's model car image (by image digest); <see cref="Kubernetes"/>
/// a Deployment and a Service running <c>berth serve-model</c>. Strings are written as double-quoted (JSON) scalars,
/// which YAML reads as they are.
/// </summary>
internal static class ServingManifests
{
    public const string LabelPrefix = "berth.registry/";

    /// <summary>A KServe v1beta1 InferenceService serving <paramref name="version"/>'s model car image <paramref name="image"/> (<c>host/ns/model/modelcar@sha256:…</c>).</summary>
    public static string KServe(VersionInfo version, ManifestSettings settings, string image)
    {
        var yaml = new StringBuilder();
        Header(yaml, version, settings, "a KServe InferenceService; its model car image needs KServe's \"enableModelcar\" and a pull secret (docs/serving.md)");
        yaml.Append("apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n");
        Metadata(yaml, version, settings, "");
        yaml.Append("spec:\n  predictor:\n    model:\n      modelFormat:\n        name: onnx\n      protocolVersion: v2\n");
        yaml.Append("      storageUri: ").Append(Quote("oci://" + image)).Append('\n');
        return yaml.ToString();
    }

    /// <summary>A Deployment and a Service running <c>berth serve-model</c> for <paramref name="version"/>.</summary>
    public static string Kubernetes(VersionInfo version, ManifestSettings settings, string server)
    {
        var pinned = $"{version.Namespace}/{version.Model}@{version.ManifestDigest}";
        List<string> args = ["serve-model", settings.Watch ? settings.Selector : pinned, "--host", "0.0.0.0", "--port", Number(settings.Port)];
        if (settings.Watch)
        {
            args.Add("--watch");
        }

        if (settings.Environment is { } environment)
        {
            args.AddRange(["--environment", environment]);
        }

        var yaml = new StringBuilder();
        Header(yaml, version, settings, settings.Watch
            ? $"berth serve-model following {settings.Selector} (--watch), behind a Service"
            : $"berth serve-model pinned to {pinned}, behind a Service");
        yaml.Append("apiVersion: apps/v1\nkind: Deployment\n");
        Metadata(yaml, version, settings, "");
        yaml.Append("spec:\n  replicas: ").Append(Number(settings.Replicas)).Append('\n');
        yaml.Append("  selector:\n    matchLabels:\n      app.kubernetes.io/name: ").Append(Quote(settings.Name)).Append('\n');
        yaml.Append("  template:\n");
        Metadata(yaml, version, settings, "    ", withName: false);
        yaml.Append("""
                spec:
                  securityContext:
                    runAsNonRoot: true
                    runAsUser: 1654
                    fsGroup: 1654
                  # SIGTERM: serve-model stops listening, finishes the requests in flight and records the deployment retired.
                  terminationGracePeriodSeconds: 40
                  containers:
                    - name: serve-model

            """);
        yaml.Append("          image: ").Append(Quote(settings.Image)).Append('\n');
        yaml.Append("          args: [").Append(string.Join(", ", args.Select(Quote))).Append("]\n");
        yaml.Append("          env:\n");
        yaml.Append("            - name: BERTH_URL\n              value: ").Append(Quote(server)).Append('\n');
        yaml.Append("            - name: BERTH_TOKEN\n              valueFrom:\n                secretKeyRef:\n                  name: ").Append(Quote(settings.TokenSecret))
            .Append("\n                  key: token\n");
        yaml.Append("            - name: BERTH_CACHE_DIR\n              value: \"/var/cache/berth\"\n");
        yaml.Append("          ports:\n            - name: http\n              containerPort: ").Append(Number(settings.Port)).Append('\n');
        yaml.Append("""
                      # The pull of a large version can take a while: ready (and routed to) once the model answers.
                      startupProbe:
                        httpGet:
                          path: /v2/health/ready
                          port: http
                        periodSeconds: 2
                        failureThreshold: 300
                      livenessProbe:
                        httpGet:
                          path: /v2/health/live
                          port: http
                        periodSeconds: 10
                      readinessProbe:
                        httpGet:
                          path: /v2/health/ready
                          port: http
                        periodSeconds: 5
                      volumeMounts:
                        - name: cache
                          mountPath: /var/cache/berth
                  volumes:
                    - name: cache
                      emptyDir: {}
            ---
            apiVersion: v1
            kind: Service

            """);
        Metadata(yaml, version, settings, "");
        yaml.Append("spec:\n  selector:\n    app.kubernetes.io/name: ").Append(Quote(settings.Name)).Append('\n');
        yaml.Append("  ports:\n    - name: http\n      port: ").Append(Number(settings.Port)).Append("\n      targetPort: http\n");
        return yaml.ToString();
    }

    private static void Header(StringBuilder yaml, VersionInfo version, ManifestSettings settings, string what)
    {
        yaml.Append("# ").Append(version.Namespace).Append('/').Append(version.Model).Append(':').Append(Number(version.Number))
            .Append(version.SemVer is { } semver ? $" ({semver})" : "").Append(", named by ").Append(settings.Selector).Append(": ").Append(what).Append(".\n");
        yaml.Append("# Written by 'berth deploy manifest'; the model answers the Open Inference Protocol (KServe v2) as '").Append(version.Model).Append("'.\n");
    }

    private static void Metadata(StringBuilder yaml, VersionInfo version, ManifestSettings settings, string indent, bool withName = true)
    {
        yaml.Append(indent).Append("metadata:\n");
        if (withName)
        {
            yaml.Append(indent).Append("  name: ").Append(Quote(settings.Name)).Append('\n');
            if (settings.KubernetesNamespace is { } ns)
            {
                yaml.Append(indent).Append("  namespace: ").Append(Quote(ns)).Append('\n');
            }
        }

        yaml.Append(indent).Append("  labels:\n");
        foreach (var (key, value) in Labels(version, settings))
        {
            yaml.Append(indent).Append("    ").Append(key).Append(": ").Append(Quote(value)).Append('\n');
        }

        yaml.Append(indent).Append("  annotations:\n");
        foreach (var (key, value) in Annotations(version, settings))
        {
            yaml.Append(indent).Append("    ").Append(Quote(key)).Append(": ").Append(Quote(value)).Append('\n');
        }
    }

    private static IEnumerable<(string Key, string Value)> Labels(VersionInfo version, ManifestSettings settings)
    {
        yield return ("app.kubernetes.io/name", settings.Name);
        yield return ("app.kubernetes.io/managed-by", "berth");
        yield return (LabelPrefix + "namespace", version.Namespace);
        yield return (LabelPrefix + "model", version.Model);
        yield return (LabelPrefix + "version", Number(version.Number));
    }

    /// <summary>The version's reference, digest and tags (annotations: tags may hold any text, labels may not).</summary>
    private static IEnumerable<(string Key, string Value)> Annotations(VersionInfo version, ManifestSettings settings)
    {
        yield return (LabelPrefix + "reference", $"{version.Namespace}/{version.Model}:{Number(version.Number)}");
        yield return (LabelPrefix + "selector", settings.Selector);
        yield return (LabelPrefix + "manifest-digest", version.ManifestDigest);
        if (version.SemVer is { } semver)
        {
            yield return (LabelPrefix + "semver", semver);
        }

        foreach (var (key, value) in version.Tags.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            yield return (LabelPrefix + "tag." + key, value);
        }
    }

    public static string Quote(string value) => JsonSerializer.Serialize(value);

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}

/// <summary>How <c>berth deploy manifest</c> was asked to write the manifest.</summary>
internal sealed record ManifestSettings(
    string Name, string? KubernetesNamespace, string Selector, string Image, int Port, int Replicas, bool Watch, string? Environment, string TokenSecret);
