using Berth.Contracts.Dtos;
using Berth.Core.Blobs;
using Berth.Core.Errors;
using Berth.Core.Runs;
using Berth.Web.Rendering;
using Microsoft.AspNetCore.Http;

namespace Berth.Web.Components.Pages.Runs;

/// <summary>
/// The file a run page previews (<c>?file=path</c>): the file, how it is shown (<see cref="PreviewKind"/>) and, for text,
/// what <see cref="FilePreview"/> read of it; or why there is nothing to show (<see cref="Problem"/>, with the status the
/// page answers: 404 for a path the run does not have, 400 for one that is not a valid path, 409 for quarantined bytes).
/// </summary>
public sealed record RunFilePreview(string Path, FileEntry? File, PreviewKind Kind, TextPreview? Text, string? Problem, int Status)
{
    public static async Task<RunFilePreview> LoadAsync(RunFileService files, IBlobStore store, string ns, string model, string id, string path, CancellationToken cancellationToken)
    {
        FileEntry file;
        try
        {
            file = await files.GetFileAsync(ns, model, id, path, cancellationToken);
        }
        catch (RegistryException e) when (e.Error.Status is StatusCodes.Status400BadRequest or StatusCodes.Status404NotFound or StatusCodes.Status409Conflict
                                          && e.Error != Contracts.Errors.ErrorCodes.RunNotFound)
        {
            return new RunFilePreview(path, null, PreviewKind.None, null, e.Message, e.Error.Status);
        }

        var kind = FilePreview.KindOf(file.Path, file.MediaType);
        if (kind == PreviewKind.Image)
        {
            return new RunFilePreview(path, file, kind, null, null, StatusCodes.Status200OK);
        }

        // Anything that is not an image is shown as text when it is text (a file of an unknown kind too).
        var text = await FilePreview.ReadTextAsync(store, file.Digest, file.Size, kind == PreviewKind.Json, cancellationToken);
        return new RunFilePreview(path, file, kind == PreviewKind.None ? PreviewKind.Text : kind, text, null, StatusCodes.Status200OK);
    }
}
