using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Auth;
using Berth.Core.Errors;
using Berth.Core.Governance;
using Berth.Web.Hosting;

namespace Berth.Web.Components.UI;

/// <summary>
/// What a viewer may do with a transition request, and doing it through <see cref="RequestService"/> (the same checks,
/// history and audit as <c>POST /api/v1/requests/{id}/approve|reject|cancel</c>). Used by the version page and the
/// requests inbox, which show a request with <see cref="RequestCard"/>.
/// </summary>
public static class RequestReviews
{
    public const string Approve = "approve";
    public const string Reject = "reject";
    public const string Cancel = "cancel";

    /// <summary>An approver of the namespace who neither opened the request nor reviewed it yet.</summary>
    public static bool CanReview(RequestInfo request, Actor viewer, bool isApprover) =>
        request.State == RequestStates.Open && isApprover && viewer.IsUser
        && !string.Equals(request.Requester, viewer.Name, StringComparison.Ordinal)
        && !request.Reviews.Any(r => string.Equals(r.Reviewer, viewer.Name, StringComparison.Ordinal));

    /// <summary>Its requester (a writer) or a namespace admin.</summary>
    public static bool CanCancel(RequestInfo request, Actor viewer, bool canWrite, bool canAdmin) =>
        request.State == RequestStates.Open && viewer.IsUser
        && (canAdmin || (canWrite && string.Equals(request.Requester, viewer.Name, StringComparison.Ordinal)));

    /// <summary>The form name of a request's card (<c>request-{id}</c>), or null for another form.</summary>
    public static long? FormRequestId(string handler) =>
        handler.StartsWith("request-", StringComparison.Ordinal) && long.TryParse(handler.AsSpan("request-".Length), out var id) ? id : null;

    /// <summary>Throws the refusal a posted decision would get (404 for a request the viewer may not see, 403 naming the role).</summary>
    public static async Task DemandAsync(Viewer viewer, RequestService requests, long id, string? decision, CancellationToken cancellationToken)
    {
        var request = await requests.GetAsync(viewer.Actor, id, cancellationToken);
        var permission = decision == Cancel
            ? string.Equals(request.Requester, viewer.Actor.Name, StringComparison.Ordinal) ? Permission.Write : Permission.Admin
            : Permission.Approve;
        await viewer.DemandAsync(permission, request.Namespace, cancellationToken);
    }

    /// <summary>Approves, rejects (a comment is required) or cancels; returns the message for the next page.</summary>
    public static async Task<string> ApplyAsync(Viewer viewer, RequestService requests, RequestAction action, CancellationToken cancellationToken)
    {
        var comment = string.IsNullOrWhiteSpace(action.Comment) ? null : action.Comment.Trim();
        switch (action.Decision)
        {
            case Approve:
                var approved = await requests.ApproveAsync(viewer.Actor, action.Id, new ReviewRequest(comment), cancellationToken);
                if (approved.State != RequestStates.Applied)
                {
                    return $"Approved request #{approved.Id}: {approved.Approvals} of {approved.RequiredApprovals} approvals.";
                }

                var reference = $"{approved.Namespace}/{approved.Model}:{approved.Version}";
                return approved.Kind == "alias"
                    ? $"Approved request #{approved.Id}: alias {approved.Alias} now points at {reference}."
                    : $"Approved request #{approved.Id}: {reference} is now in {approved.Stage}.";
            case Reject:
                if (comment is null)
                {
                    throw new RegistryException(ErrorCodes.InvalidRequest, "Say why you reject the request: a comment is required.");
                }

                var rejected = await requests.RejectAsync(viewer.Actor, action.Id, new ReviewRequest(comment), cancellationToken);
                return $"Rejected request #{rejected.Id}.";
            case Cancel:
                var cancelled = await requests.CancelAsync(viewer.Actor, action.Id, new ReviewRequest(comment), cancellationToken);
                return $"Cancelled request #{cancelled.Id}.";
            default:
                throw new RegistryException(ErrorCodes.InvalidRequest, "Choose Approve, Reject or Cancel.");
        }
    }
}
