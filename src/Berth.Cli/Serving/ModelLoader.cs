using Berth.Cli.Infrastructure;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;
using Microsoft.ML.OnnxRuntime;

namespace Berth.Cli.Serving;

/// <summary>
/// Resolves a version, pulls it (verified, through the SDK's <see cref="BerthClient.PullAsync"/>) into the cache folder and
/// opens its ONNX file with ONNX Runtime. Which file: <c>--file</c>, else the version's one <c>*.onnx</c> file; a version with
/// none, or several and no <c>--file</c>, is refused before anything is downloaded.
/// </summary>
internal sealed class ModelLoader(BerthClient client, ServeModelOptions options)
{
    /// <summary>The version <paramref name="reference"/> names now, with its files.</summary>
    public Task<VersionInfo> ResolveAsync(ModelReference reference, CancellationToken cancellationToken) =>
        client.GetVersionAsync(reference, withFiles: true, cancellationToken);

    /// <summary>Pulls <paramref name="version"/> and loads its ONNX file; the caller owns the returned model.</summary>
    public async Task<ServedModel> LoadAsync(VersionInfo version, CancellationToken cancellationToken)
    {
        var file = OnnxFile(version, options.File);
        var hex = version.ManifestDigest[(version.ManifestDigest.IndexOf(':', StringComparison.Ordinal) + 1)..];
        var folder = Path.Combine(options.CacheDirectory, "models", hex);
        var pinned = new ModelReference(version.Namespace, version.Model, VersionSelector.ForNumber(version.Number), HasSelector: true);
        await client.PullAsync(pinned, folder, new PullOptions { Clean = true }, progress: null, cancellationToken);
        var path = Path.Combine(folder, file);
        var served = new ServedVersion(version.Namespace, version.Model, version.Number, version.SemVer, version.ManifestDigest, file);
        return await Task.Run(() => Open(served, path), cancellationToken);
    }

    /// <summary>The ONNX file to serve, or a <see cref="CliException"/> that says why the version cannot be served.</summary>
    public static string OnnxFile(VersionInfo version, string? requested)
    {
        var files = version.Files ?? [];
        var reference = $"{version.Namespace}/{version.Model}:{version.Number}";
        if (requested is not null)
        {
            var wanted = requested.Replace('\\', '/').TrimStart('.', '/');
            if (files.FirstOrDefault(f => string.Equals(f.Path, wanted, StringComparison.Ordinal)) is not { } chosen)
            {
                throw new CliException($"{reference} has no file '{requested}' (--file).", hint: $"its files: {List(files.Select(f => f.Path))}.");
            }

            return chosen.Path;
        }

        var onnx = files.Where(f => f.Path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)).Select(f => f.Path).ToList();
        return onnx.Count switch
        {
            1 => onnx[0],
            0 => throw new CliException(
                $"{reference} has no ONNX model (.onnx file); serve-model serves ONNX models with ONNX Runtime.",
                hint: files.Count == 0 ? null : $"its files: {List(files.Select(f => f.Path))}. Export the model to ONNX, or name an ONNX file of another extension with --file."),
            _ => throw new CliException($"{reference} has {onnx.Count} ONNX files: {List(onnx)}.", hint: "choose one with --file <path>."),
        };
    }

    private ServedModel Open(ServedVersion version, string path)
    {
        InferenceSession session;
        using (var sessionOptions = new SessionOptions())
        {
            sessionOptions.GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL;
            sessionOptions.ExecutionMode = ExecutionMode.ORT_SEQUENTIAL;
            sessionOptions.IntraOpNumThreads = options.Threads;
            sessionOptions.InterOpNumThreads = 1;
            // Its errors reach us as exceptions (and become one error line); its own log would repeat them in colour.
            sessionOptions.LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL;
            try
            {
                session = new InferenceSession(path, sessionOptions);
            }
            catch (OnnxRuntimeException e)
            {
                throw new CliException($"ONNX Runtime cannot load '{version.File}' of {version.Reference}: {OneLine(e.Message)}");
            }
        }

        try
        {
            var inputs = Signature(session.InputNames, session.InputMetadata, "input", version, out _);
            if (inputs.Count == 0)
            {
                throw new CliException($"'{version.File}' of {version.Reference} has no tensor inputs to serve.");
            }

            var outputs = Signature(session.OutputNames, session.OutputMetadata, "output", version, out var skipped);
            foreach (var name in skipped)
            {
                Output.Warning($"output '{name}' of {version.Reference} is not a tensor (a sequence or map, like scikit-learn's ZipMap) and is not served; convert with zipmap=False to serve it.");
            }

            if (outputs.Count == 0)
            {
                throw new CliException($"'{version.File}' of {version.Reference} has no tensor outputs to serve.");
            }

            return new ServedModel(version, session, inputs, outputs);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private static List<TensorSpec> Signature(IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeMetadata> metadata, string kind, ServedVersion version, out List<string> skipped)
    {
        var specs = new List<TensorSpec>();
        skipped = [];
        foreach (var name in names)
        {
            var node = metadata[name];
            if (!node.IsTensor)
            {
                if (kind == "input")
                {
                    throw new CliException($"{kind} '{name}' of {version.Reference} is a {node.OnnxValueType}, not a tensor: the Open Inference Protocol carries tensors only.");
                }

                skipped.Add(name);
                continue;
            }

            var datatype = TensorDatatypes.NameOf(node.ElementDataType)
                ?? throw new CliException($"{kind} '{name}' of {version.Reference} has element type {node.ElementDataType}, which the Open Inference Protocol cannot carry.");
            specs.Add(new TensorSpec(name, node.ElementDataType, datatype, [.. node.Dimensions.Select(d => d < 0 ? -1L : d)]));
        }

        return specs;
    }

    private static string List(IEnumerable<string> items)
    {
        var all = items.ToList();
        return all.Count <= 10 ? string.Join(", ", all) : string.Join(", ", all.Take(10)) + $" … ({all.Count} files)";
    }

    private static string OneLine(string text) => string.Join(' ', text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
