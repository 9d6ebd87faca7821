using System.CommandLine;
using System.Net;
using Berth.Cli.Infrastructure;
using Berth.Cli.Serving;
using Berth.Contracts.Naming;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth serve-model acme/fraud:production --watch --environment prod-eu</c>: serves a version's ONNX model over the
/// Open Inference Protocol (KServe v2 REST) with ONNX Runtime; see <see cref="ModelServer"/> and docs/serving.md.
/// </summary>
internal static class ServeModelCommand
{
    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("version") { Description = "The version: namespace/model:selector (a number, semantic version, alias or stage; none = latest)." };
        var host = new Option<string>("--host") { Description = "Address to listen on: 127.0.0.1, 0.0.0.0 (every IPv4 interface), :: or localhost.", DefaultValueFactory = _ => "127.0.0.1" };
        var port = new Option<int>("--port") { Description = "Port to listen on (0: any free port).", DefaultValueFactory = _ => ServeModelOptions.DefaultPort };
        var threads = new Option<int>("--threads") { Description = "ONNX Runtime's threads for one inference (intra-op); 0: one per physical core.", DefaultValueFactory = _ => 0 };
        var maxBatch = new Option<long?>("--max-batch") { Description = "Refuse a request whose first dimension (the batch) is larger than this." };
        var maxRequestBytes = new Option<long>("--max-request-bytes") { Description = "Refuse request bodies larger than this (413).", DefaultValueFactory = _ => ServeModelOptions.DefaultMaxRequestBytes };
        var file = new Option<string>("--file") { Description = "The ONNX file to serve, as a path in the version (default: its one *.onnx file)." };
        var watch = new Option<bool>("--watch") { Description = "Follow the alias or stage (or latest): when it moves, load the new version and swap to it once it is ready, without failing a request." };
        var environment = new Option<string>("--environment", "-e") { Description = "Record the deployment in this environment (live while serving, retired on stop); needs the writer role." };
        var endpoint = new Option<string>("--endpoint") { Description = "The URL recorded with the deployment, where clients reach this server (e.g. https://fraud.acme.io)." };
        port.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 65535)
            {
                r.AddError("--port must be between 0 and 65535.");
            }
        });
        threads.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 0 or > 1024)
            {
                r.AddError("--threads must be between 0 and 1024.");
            }
        });
        maxBatch.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long?>() is < 1)
            {
                r.AddError("--max-batch must be at least 1.");
            }
        });
        maxRequestBytes.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<long>() < 1024)
            {
                r.AddError("--max-request-bytes must be at least 1024.");
            }
        });
        host.Validators.Add(r =>
        {
            var value = r.GetValueOrDefault<string>();
            if (!string.Equals(value, "localhost", StringComparison.OrdinalIgnoreCase) && !IPAddress.TryParse(value, out _))
            {
                r.AddError($"--host '{value}' is not an IP address or localhost.");
            }
        });

        var command = new Command("serve-model", "Serve a version's ONNX model over the Open Inference Protocol (KServe v2 REST), following an alias or stage with --watch.")
        {
            reference, host, port, threads, maxBatch, maxRequestBytes, file, watch, environment, endpoint,
        };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var version = context.Reference(parse.GetValue(reference)!);
            if (parse.GetValue(watch) && version.Selector.Kind is SelectorKind.Number or SelectorKind.SemanticVersion or SelectorKind.Digest)
            {
                throw new UsageException($"--watch follows an alias, a stage or the latest version; '{version}' names one fixed version.");
            }

            if (parse.GetValue(environment) is { } env && Names.CheckEnvironment(env) is { } problem)
            {
                throw new UsageException($"--environment: {problem}");
            }

            if (parse.GetValue(endpoint) is { } url && !Uri.TryCreate(url, UriKind.Absolute, out _))
            {
                throw new UsageException($"--endpoint '{url}' is not an absolute URL.");
            }

            var options = new ServeModelOptions
            {
                Host = parse.GetValue(host)!,
                Port = parse.GetValue(port),
                Threads = parse.GetValue(threads),
                MaxBatch = parse.GetValue(maxBatch),
                MaxRequestBytes = parse.GetValue(maxRequestBytes),
                File = parse.GetValue(file),
                Watch = parse.GetValue(watch),
                Environment = parse.GetValue(environment),
                Endpoint = parse.GetValue(endpoint),
                CacheDirectory = CliPaths.CacheDirectory,
            };
            return await new ModelServer(context.Client, version, options, context.Output).RunAsync(cancellationToken);
        });
        return command;
    }
}
