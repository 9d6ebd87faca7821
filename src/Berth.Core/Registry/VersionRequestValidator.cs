using System.Text.RegularExpressions;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Manifests;
using Berth.Contracts.Naming;
using Berth.Core.Configuration;
using Berth.Core.Errors;

namespace Berth.Core.Registry;

/// <summary>
/// Checks everything in a <see cref="CreateVersionRequest"/> that does not need the database, against the server's
/// limits: at least one file and at most <see cref="RegistryOptions.MaxFilesPerVersion"/>, each of at most
/// <see cref="RegistryOptions.MaxBlobSize"/> bytes, paths that materialise alike everywhere (<see cref="FilePaths.Validate"/>).
/// </summary>
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

    public static void Validate(CreateVersionRequest request, RegistryOptions limits, IReadOnlyList<string> stages)
    {
        if (request.Files is null)
        {
            Fail.With(ErrorCodes.InvalidRequest, "A version needs a 'files' list.");
        }

        if (request.Files.Count == 0)
        {
            Fail.With(ErrorCodes.EmptyVersion, "A version needs at least one file; this one lists none.");
        }

        if (request.Files.Count > limits.MaxFilesPerVersion)
        {
            Fail.With(ErrorCodes.TooManyFiles, $"A version may hold at most {limits.MaxFilesPerVersion} files on this server; this one lists {request.Files.Count}.",
                new Dictionary<string, object?> { ["limit"] = limits.MaxFilesPerVersion, ["files"] = request.Files.Count });
        }

        if (request.Files.Any(f => f is null))
        {
            Fail.With(ErrorCodes.InvalidRequest, "The files list contains null.");
        }

        if (FilePaths.Validate(request.Files.Select(f => f.Path)) is { } problem)
        {
            Fail.With(ErrorCodes.InvalidPath, problem.Message, new Dictionary<string, object?> { ["paths"] = problem.Paths });
        }

        var total = 0L;
        foreach (var file in request.Files)
        {
            if (!Digest.TryParse(file.Digest, out _))
            {
                Fail.With(ErrorCodes.InvalidDigest, $"File '{file.Path}' has digest '{Names.Show(file.Digest)}': expected sha256: followed by 64 lowercase hex characters.");
            }

            if (file.Size < 0)
            {
                Fail.With(ErrorCodes.InvalidRequest, $"File '{file.Path}' has a negative size.");
            }

            if (file.Size > limits.MaxBlobSize)
            {
                Fail.With(ErrorCodes.FileTooLarge, $"File '{file.Path}' has {file.Size} bytes; this server takes files of at most {limits.MaxBlobSize} bytes.",
                    new Dictionary<string, object?> { ["limit"] = limits.MaxBlobSize, ["paths"] = new[] { file.Path } });
            }

            // Sizes are each at most MaxBlobSize, but their sum may still leave the range of a 64-bit count.
            if (total > long.MaxValue - file.Size)
            {
                Fail.With(ErrorCodes.InvalidRequest, $"The files of this version add up to more than {long.MaxValue} bytes.");
            }

            total += file.Size;
            if (file.MediaType is not null && (file.MediaType.Length > MaxMediaTypeLength || !MediaType().IsMatch(file.MediaType)))
            {
                Fail.With(ErrorCodes.InvalidRequest, $"File '{file.Path}' has an invalid media type '{Names.Show(file.MediaType)}' (expected type/subtype).");
            }
        }

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
