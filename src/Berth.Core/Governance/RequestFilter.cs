using Berth.Contracts.Dtos;

namespace Berth.Core.Governance;

/// <summary>
/// Which transition requests to list (<see cref="RequestService.FindAsync"/>); every filter narrows the requests of the
/// namespaces the caller may read.
/// </summary>
/// <param name="Namespace">Only this namespace (the caller must be able to read it).</param>
/// <param name="Model">Only this model of <paramref name="Namespace"/>.</param>
/// <param name="Version">Only requests for this version number of <paramref name="Model"/>.</param>
/// <param name="State">open (the default), applied, rejected, cancelled, superseded, or all.</param>
/// <param name="ToReview">Only requests the caller could review now: in namespaces where it is an approver, opened by
/// someone else, and not reviewed by it yet.</param>
/// <param name="Mine">Only requests the caller opened.</param>
public sealed record RequestFilter(
    string? Namespace = null,
    string? Model = null,
    int? Version = null,
    string? State = RequestStates.Open,
    bool ToReview = false,
    bool Mine = false);
