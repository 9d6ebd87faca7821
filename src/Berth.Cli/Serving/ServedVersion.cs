namespace Berth.Cli.Serving;

/// <summary>Which registry version a <see cref="ServedModel"/> is: namespace, model, number, manifest digest, and the ONNX file's path inside it.</summary>
internal sealed record ServedVersion(string Namespace, string Model, int Number, string? SemVer, string ManifestDigest, string File)
{
    public string Reference => $"{Namespace}/{Model}:{Number}";
}
