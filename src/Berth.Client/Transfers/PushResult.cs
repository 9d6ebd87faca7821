using Berth.Contracts.Dtos;

namespace Berth.Client.Transfers;

/// <summary>What a push did: the ready version, and how much had to be uploaded (the rest the server had).</summary>
public sealed record PushResult(VersionInfo Version, int FilesTotal, long BytesTotal, int FilesUploaded, long BytesUploaded, TimeSpan Elapsed)
{
    /// <summary>
    /// True when no version was created because <see cref="Version"/>, a ready version of the model, already has
    /// exactly this content (see <see cref="PushOptions.AllowUnchanged"/>); the requested aliases were moved onto
    /// it (<see cref="AliasMoves"/>) and the other metadata of the push was not used.
    /// </summary>
    public bool Unchanged { get; init; }

    /// <summary>The ready version that had the same content before this push (the oldest, as <c>@sha256:</c> resolves), if any.</summary>
    public VersionInfo? SameContentAs { get; init; }

    /// <summary>For an unchanged push: what moving each of <see cref="PushOptions.Aliases"/> did, in order (applied, unchanged, or requested for approval).</summary>
    public IReadOnlyList<TransitionResult> AliasMoves { get; init; } = [];
}
