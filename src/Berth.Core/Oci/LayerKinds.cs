namespace Berth.Core.Oci;

/// <summary>
/// Which ModelPack layer kind a version's file is, by its name: documentation, code, data sets and the small files
/// that configure weights (tokenizers, configs) have kinds of their own; everything else is weights.
/// </summary>
public static class LayerKinds
{
    private static readonly string[] DocPrefixes = ["readme", "license", "licence", "copying", "notice", "changelog", "model_card", "modelcard"];
    private static readonly HashSet<string> DocExtensions = new(StringComparer.Ordinal) { ".md", ".rst", ".pdf", ".adoc", ".html" };
    private static readonly HashSet<string> CodeExtensions = new(StringComparer.Ordinal)
    {
        ".py", ".ipynb", ".sh", ".js", ".ts", ".r", ".jl", ".go", ".rs", ".java", ".scala", ".c", ".cc", ".cpp", ".h", ".hpp", ".cu", ".lua", ".rb", ".ps1",
    };
    private static readonly HashSet<string> CodeNames = new(StringComparer.Ordinal)
    {
        "requirements.txt", "pyproject.toml", "setup.cfg", "environment.yml", "environment.yaml", "conda.yaml", "conda.yml", "python_env.yaml",
        "dockerfile", "makefile", "pipfile", "pipfile.lock", "poetry.lock",
    };
    private static readonly HashSet<string> DatasetExtensions = new(StringComparer.Ordinal)
    {
        ".csv", ".tsv", ".parquet", ".jsonl", ".ndjson", ".arrow", ".feather", ".tfrecord", ".tfrecords", ".avro", ".orc",
    };
    private static readonly HashSet<string> ConfigExtensions = new(StringComparer.Ordinal)
    {
        ".json", ".yaml", ".yml", ".txt", ".toml", ".cfg", ".ini", ".xml", ".tiktoken", ".jinja", ".model", ".vocab", ".spm",
    };
    private static readonly HashSet<string> ConfigNames = new(StringComparer.Ordinal) { "mlmodel", "merges.txt", "vocab.txt" };

    /// <summary>The ModelPack media type of a raw (single-file) layer for <paramref name="path"/>.</summary>
    public static string MediaTypeFor(string path)
    {
        var name = path[(path.LastIndexOf('/') + 1)..].ToLowerInvariant();
        var dot = name.LastIndexOf('.');
        var extension = dot > 0 ? name[dot..] : "";
        if (DocPrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal)) || DocExtensions.Contains(extension))
        {
            return OciMediaTypes.ModelDoc;
        }

        if (CodeNames.Contains(name) || name.StartsWith("requirements", StringComparison.Ordinal) && extension == ".txt" || CodeExtensions.Contains(extension))
        {
            return OciMediaTypes.ModelCode;
        }

        if (DatasetExtensions.Contains(extension))
        {
            return OciMediaTypes.ModelDataset;
        }

        if (ConfigNames.Contains(name) || ConfigExtensions.Contains(extension))
        {
            return OciMediaTypes.ModelWeightConfig;
        }

        return OciMediaTypes.ModelWeight;
    }
}
