using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Registry;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Governance;

/// <summary>
/// Reviews of transition requests. Approvers (never the requester, never twice) approve or reject; when
/// the approvals reach the number the policy asks for, the gate is checked again and the request is
/// applied in the same transaction as the change it makes. A requester or a namespace admin may cancel.
/// Two approvals racing on one request cannot both apply it (the request's revision guards it), and
/// applying a request supersedes every other open request for the same target.
/// </summary>
public sealed class RequestService(
    RegistryDbContext db,
    LifecycleService lifecycle,
    StagePolicies policies,
    GateCheck gates,
    AccessControl access,
    AuditTrail audit,
    TimeProvider clock)
{
    public Task<Page<RequestInfo>> ListAsync(Actor actor, string? ns, string? state, Paging paging, CancellationToken cancellationToken) =>
        FindAsync(actor, new RequestFilter(ns, State: state), paging, cancellationToken);

    /// <summary>Requests the caller may see that match <paramref name="filter"/>, oldest first (keyset on the id).</summary>
    public async Task<Page<RequestInfo>> FindAsync(Actor actor, RequestFilter filter, Paging paging, CancellationToken cancellationToken)
    {
        var query = Requests();
        if (filter.Namespace is { } ns)
        {
            await access.DemandAsync(actor, Permission.Read, ns, cancellationToken);
            query = query.Where(r => r.Model.Namespace.Name == ns);
            if (filter.Model is { } model)
            {
                query = query.Where(r => r.Model.Name == model);
                if (filter.Version is { } number)
                {
                    query = query.Where(r => r.Version.Number == number);
                }
            }
        }
        else if (await access.ReadableNamespaceIdsAsync(actor, cancellationToken) is { } readable)
        {
            query = query.Where(r => readable.Contains(r.Model.NamespaceId));
        }

        if (filter.ToReview)
        {
            var reviewable = await access.NamespaceIdsWhereAsync(actor, Permission.Approve, cancellationToken);
            if (reviewable is not null)
            {
                query = query.Where(r => reviewable.Contains(r.Model.NamespaceId));
            }

            var me = actor.UserId;
            query = query.Where(r => r.RequesterId != me && !r.Reviews.Any(v => v.ReviewerId == me));
        }

        if (filter.Mine)
        {
            var me = actor.UserId;
            query = query.Where(r => r.RequesterId == me);
        }

        if (filter.State is { } state && state != "all")
        {
            var parsed = ParseState(state);
            query = query.Where(r => r.State == parsed);
        }

        var after = paging.AfterId();
        var rows = await query.Where(r => r.Id > after).OrderBy(r => r.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, r => r.Id);
        return new Page<RequestInfo>(page.Items.Select(ToInfo).ToList(), page.NextCursor);
    }

    public async Task<RequestInfo> GetAsync(Actor actor, long id, CancellationToken cancellationToken)
    {
        var request = await LoadAsync(id, cancellationToken);
        await access.DemandAsync(actor, Permission.Read, request.Model.Namespace.Name, () => NotFound(id), cancellationToken);
        return ToInfo(request);
    }

    public async Task<RequestInfo> ApproveAsync(Actor actor, long id, ReviewRequest review, CancellationToken cancellationToken) =>
        await ReviewAsync(actor, id, ReviewDecision.Approve, review.Comment, cancellationToken);

    public async Task<RequestInfo> RejectAsync(Actor actor, long id, ReviewRequest review, CancellationToken cancellationToken) =>
        await ReviewAsync(actor, id, ReviewDecision.Reject, review.Comment, cancellationToken);

    public async Task<RequestInfo> CancelAsync(Actor actor, long id, ReviewRequest review, CancellationToken cancellationToken)
    {
        CheckComment(review.Comment);
        var snapshot = await LoadAsync(id, cancellationToken);
        var ns = snapshot.Model.Namespace.Name;
        if (snapshot.RequesterId != actor.UserId)
        {
            await access.DemandAsync(actor, Permission.Admin, ns, () => NotFound(id), cancellationToken);
        }
        else
        {
            await access.DemandAsync(actor, Permission.Write, ns, () => NotFound(id), cancellationToken);
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            var request = await db.Requests.Include(r => r.Model).ThenInclude(m => m.Namespace).SingleAsync(r => r.Id == id, ct);
            EnsureOpen(request);
            await db.Versions.Where(v => v.Id == request.VersionId).LoadAsync(ct);
            lifecycle.Close(actor, request.Model, request, RequestState.Cancelled, review.Comment ?? $"cancelled by {actor.Name}", clock.GetUtcNow().UtcDateTime);
            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return ToInfo(await LoadAsync(id, cancellationToken));
    }

    private async Task<RequestInfo> ReviewAsync(Actor actor, long id, ReviewDecision decision, string? comment, CancellationToken cancellationToken)
    {
        CheckComment(comment);
        var snapshot = await LoadAsync(id, cancellationToken);
        var ns = snapshot.Model.Namespace.Name;
        await access.DemandAsync(actor, Permission.Approve, ns, () => NotFound(id), cancellationToken);
        if (snapshot.RequesterId == actor.UserId)
        {
            Fail.With(ErrorCodes.SelfApproval, $"You opened request #{id}; another approver must review it.");
        }

        await db.InTransactionWithRetryAsync(async ct =>
        {
            var request = await db.Requests.Include(r => r.Reviews).Include(r => r.Model).ThenInclude(m => m.Namespace).SingleAsync(r => r.Id == id, ct);
            EnsureOpen(request);
            if (request.Reviews.Any(r => r.ReviewerId == actor.UserId))
            {
                Fail.With(ErrorCodes.AlreadyReviewed, $"You have already reviewed request #{id}.");
            }

            var now = clock.GetUtcNow().UtcDateTime;
            var version = await db.Versions.SingleAsync(v => v.Id == request.VersionId, ct);
            request.Reviews.Add(new RequestReview { ReviewerId = actor.UserId, Decision = decision, Comment = comment, At = now });
            request.Revision++;
            if (decision == ReviewDecision.Reject)
            {
                lifecycle.Close(actor, request.Model, request, RequestState.Rejected, comment ?? $"rejected by {actor.Name}", now);
            }
            else
            {
                lifecycle.RecordRequest(actor, request.Model, request, version.Number, "approved", comment, now);
                audit.Record("request.approve", ns, $"request #{id}", new Dictionary<string, object?> { ["comment"] = comment });
                if (request.Reviews.Count(r => r.Decision == ReviewDecision.Approve) >= request.RequiredApprovals)
                {
                    await ApplyAsync(actor, request, version, now, ct);
                }
            }

            await db.SaveChangesAsync(ct);
            return true;
        }, cancellationToken);
        return ToInfo(await LoadAsync(id, cancellationToken));
    }

    /// <summary>Makes the change a request asks for, after checking the gate again, and supersedes the other open requests for its target.</summary>
    private async Task ApplyAsync(Actor actor, TransitionRequest request, ModelVersion version, DateTime now, CancellationToken cancellationToken)
    {
        var model = request.Model;
        if (version.State != VersionState.Ready)
        {
            Fail.With(ErrorCodes.VersionNotReady, $"Version {model.Namespace.Name}/{model.Name}:{version.Number} is {DtoMapper.StateName(version.State)}; cancel request #{request.Id}.");
        }

        if (request.Kind == RequestKind.Stage)
        {
            var rule = (await policies.EffectiveAsync(model.NamespaceId, model.Id, cancellationToken)).FirstOrDefault(r => r.Stage == request.Stage)
                ?? throw Fail.Error(ErrorCodes.InvalidStage, $"Stage '{request.Stage}' is no longer in the policy of {model.Namespace.Name}/{model.Name}; cancel request #{request.Id}.");
            if (rule.Gate is not null)
            {
                var gate = await gates.EvaluateAsync(rule.Gate, version.Id, cancellationToken);
                request.GateResult = GateCheck.Serialize(gate);
                GateCheck.Demand(gate, $"stage '{rule.Stage}'");
            }

            await lifecycle.ApplyStageAsync(actor, model, version.Id, rule, request.Comment, request.Id, cancellationToken);
        }
        else
        {
            await lifecycle.PointAliasAsync(actor, model, request.Alias!, version, request.Id, cancellationToken);
        }

        request.State = RequestState.Applied;
        request.ClosedAt = now;
        request.ClosedById = actor.UserId;
        request.CloseReason = $"approved by {request.Reviews.Count(r => r.Decision == ReviewDecision.Approve)} of {request.RequiredApprovals}";
        lifecycle.RecordRequest(actor, model, request, version.Number, "applied", null, now);
        audit.Record("request.apply", model.Namespace.Name, $"request #{request.Id}", new Dictionary<string, object?> { ["version"] = version.Number });

        var others = await db.Requests.Where(r => r.ModelId == model.Id && r.Id != request.Id && r.State == RequestState.Open && r.Kind == request.Kind && r.Stage == request.Stage && r.Alias == request.Alias)
            .ToListAsync(cancellationToken);
        foreach (var other in others)
        {
            lifecycle.Close(actor, model, other, RequestState.Superseded, $"request #{request.Id} was applied to the same target", now);
        }
    }

    private IQueryable<TransitionRequest> Requests() =>
        db.Requests.AsNoTracking()
            .Include(r => r.Model).ThenInclude(m => m.Namespace)
            .Include(r => r.Version)
            .Include(r => r.Requester)
            .Include(r => r.ClosedBy)
            .Include(r => r.Reviews).ThenInclude(v => v.Reviewer)
            .AsSplitQuery();

    private async Task<TransitionRequest> LoadAsync(long id, CancellationToken cancellationToken) =>
        await Requests().OrderBy(r => r.Id).FirstOrDefaultAsync(r => r.Id == id, cancellationToken) ?? throw NotFound(id);

    /// <summary>The answer for a request that does not exist, and for one in a namespace the caller may not see.</summary>
    private static RegistryException NotFound(long id) => Fail.Error(ErrorCodes.RequestNotFound, $"There is no request #{id}.");

    private static void EnsureOpen(TransitionRequest request)
    {
        if (request.State != RequestState.Open)
        {
            Fail.With(ErrorCodes.RequestClosed, $"Request #{request.Id} is {request.State.ToString().ToLowerInvariant()}{(request.CloseReason is null ? "" : $" ({request.CloseReason})")}.");
        }
    }

    private static RequestState ParseState(string state) => state switch
    {
        RequestStates.Open => RequestState.Open,
        RequestStates.Applied => RequestState.Applied,
        RequestStates.Rejected => RequestState.Rejected,
        RequestStates.Cancelled => RequestState.Cancelled,
        RequestStates.Superseded => RequestState.Superseded,
        _ => throw Fail.Error(ErrorCodes.InvalidRequest, $"Unknown request state '{Contracts.Naming.Names.Show(state)}': use open, applied, rejected, cancelled, superseded or all."),
    };

    private static void CheckComment(string? comment)
    {
        if (comment is { Length: > LifecycleService.MaxCommentLength })
        {
            Fail.With(ErrorCodes.InvalidRequest, $"The comment is longer than {LifecycleService.MaxCommentLength} characters.");
        }
    }

    public static RequestInfo ToInfo(TransitionRequest r) => new(
        r.Id,
        r.Model.Namespace.Name,
        r.Model.Name,
        r.Version.Number,
        r.Kind.ToString().ToLowerInvariant(),
        r.Stage,
        r.Alias,
        r.State.ToString().ToLowerInvariant(),
        r.RequiredApprovals,
        r.Reviews.Count(v => v.Decision == ReviewDecision.Approve),
        r.Requester.Name,
        r.Comment,
        DtoMapper.Utc(r.CreatedAt),
        DtoMapper.Utc(r.ClosedAt),
        r.ClosedBy?.Name ?? (r.ClosedAt is null ? null : "system"),
        r.CloseReason,
        GateCheck.Deserialize(r.GateResult),
        r.Reviews.OrderBy(v => v.At).Select(v => new ReviewInfo(v.Reviewer.Name, v.Decision.ToString().ToLowerInvariant(), v.Comment, DtoMapper.Utc(v.At))).ToList());
}
