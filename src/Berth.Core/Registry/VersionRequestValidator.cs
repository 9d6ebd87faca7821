using System.Text.RegularExpressions;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;
using Berth.Core.Errors;

namespace Berth.Core.Registry;

/// <summary>Checks everything in a <see cref="CreateVersionRequest"/> that does not need the database.</summary>
internal static partial class VersionRequestValidator
{
    public const int MaxEntries = 1000;
    public const int MaxMediaTypeLength = 255;

    [GeneratedRegex("^[0-9a-f]{4,64}$", RegexOptions.CultureInvariant)]
    private static partial Regex GitCommit();

    [GeneratedRegex("^[A-Za-z0-9_+.-]{1,32}:[A-Za-z0-9+/=._-]{1,200}$", RegexOptions.CultureInvariant)]
    private static partial Regex DatasetDigest();

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$", RegexOptions.CultureInvariant)]
    private static partial Regex MediaType();

    public static void Validate(CreateVersionRequest request, int maxFiles, IReadOnlyList<string> stages)
    {
        if (request.Files is null)
        {
            Fail.With(ErrorCodes.InvalidRequest, "A version needs a 'files' list (it may be empty).");
        }

        if (request.Files.Count > maxFiles)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"A version may hold at most {maxFiles} files; this one lists {request.Files.Count}.");
        }

        foreach (var file in request.Files)
        {
            if (file is null)
            {
                Fail.With(ErrorCodes.InvalidRequest, "The files list contains null.");
            }

            Fail.If(FilePaths.Check(file.Path), ErrorCodes.InvalidPath);
            if (!Digest.TryParse(file.Digest, out _))
            {
                Fail.With(ErrorCodes.InvalidDigest, $"File '{file.Path}' has digest '{Names.Show(file.Digest)}': expected sha256: followed by 64 lowercase hex characters.");
            }

            if (file.Size < 0)
            {
                Fail.With(ErrorCodes.InvalidRequest, $"File '{file.Path}' has a negative size.");
            }

            if (file.MediaType is not null && (file.MediaType.Length > MaxMediaTypeLength || !MediaType().IsMatch(file.MediaType)))
            {
                Fail.With(ErrorCodes.InvalidRequest, $"File '{file.Path}' has an invalid media type '{Names.Show(file.MediaType)}' (expected type/subtype).");
            }
        }

        Fail.If(FilePaths.CheckSet(request.Files.Select(f => f.Path)), ErrorCodes.InvalidPath);

        if (request.Version is not null)
        {
            Fail.If(SemanticVersion.Check(request.Version), ErrorCodes.InvalidVersion);
        }

        NamespaceService.CheckDescription(request.Description);
        CheckCount(request.Metrics?.Count, "metrics");
        foreach (var (name, value) in request.Metrics ?? new Dictionary<string, double>())
        {
            Fail.If(Names.CheckKey("metric", name), ErrorCodes.InvalidMetadata);
            if (!double.IsFinite(value))
            {
                Fail.With(ErrorCodes.InvalidMetadata, $"Metric '{name}' is not a finite number.");
            }
        }

        CheckCount(request.Params?.Count, "params");
        foreach (var (name, value) in request.Params ?? new Dictionary<string, string>())
        {
            Fail.If(Names.CheckKey("param", name), ErrorCodes.InvalidMetadata);
            Fail.If(Names.CheckParamValue(name, value), ErrorCodes.InvalidMetadata);
        }

        ModelService.ValidateTags(request.Tags);
        CheckCount(request.Aliases?.Count, "aliases");
        foreach (var alias in request.Aliases ?? [])
        {
            Fail.If(Names.CheckAlias(alias, stages), ErrorCodes.InvalidAlias);
        }

        ValidateLineage(request.Lineage);
    }

    private static void ValidateLineage(Lineage? lineage)
    {
        if (lineage is null)
        {
            return;
        }

        CheckText(lineage.RunId, "runId", 256);
        CheckText(lineage.GitRepository, "gitRepository", 2048);
        if (lineage.GitCommit is not null && !GitCommit().IsMatch(lineage.GitCommit.ToLowerInvariant()))
        {
            Fail.With(ErrorCodes.InvalidMetadata, $"gitCommit '{Names.Show(lineage.GitCommit)}' is not a commit id (4-64 hex characters).");
        }

        CheckCount(lineage.Datasets?.Count, "datasets");
        foreach (var dataset in lineage.Datasets ?? [])
        {
            if (dataset is null || string.IsNullOrWhiteSpace(dataset.Uri))
            {
                Fail.With(ErrorCodes.InvalidMetadata, "A dataset needs a uri.");
            }

            CheckText(dataset.Uri, "dataset uri", 2048);
            if (dataset.Digest is not null && !DatasetDigest().IsMatch(dataset.Digest))
            {
                Fail.With(ErrorCodes.InvalidMetadata, $"Dataset digest '{Names.Show(dataset.Digest)}' is not of the form algorithm:value (e.g. sha256:… or md5:…).");
            }
        }

        if (lineage.Parents is { Count: > 100 })
        {
            Fail.With(ErrorCodes.InvalidMetadata, "At most 100 parent versions.");
        }
    }

    private static void CheckText(string? value, string field, int max)
    {
        if (value is null)
        {
            return;
        }

        if (value.Length == 0 || value.Length > max || value.Any(char.IsControl))
        {
            Fail.With(ErrorCodes.InvalidMetadata, $"{field} must be 1-{max} printable characters.");
        }
    }

    private static void CheckCount(int? count, string what)
    {
        if (count > MaxEntries)
        {
            Fail.With(ErrorCodes.InvalidMetadata, $"At most {MaxEntries} {what}.");
        }
    }
}
