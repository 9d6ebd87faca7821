using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Audit;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Berth.Core.Events;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// Where versions run, as deployment systems report it. An environment runs one version of a model: a version
/// reported deploying or live there retires the version that was (a retired record is written for it). Every
/// record is kept; the latest per version and environment is its current state.
/// </summary>
public sealed class DeploymentService(RegistryDbContext db, ModelLookup lookup, LifecycleService lifecycle, AuditTrail audit, EventLog events, TimeProvider clock)
{
    public const int MaxCommentLength = 4096;

    public async Task<DeploymentInfo> RecordAsync(Actor actor, string ns, string model, string selector, RecordDeploymentRequest request, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckEnvironment(request.Environment), ErrorCodes.InvalidDeployment);
        if (!DeploymentStatuses.All.Contains(request.Status, StringComparer.Ordinal))
        {
            Fail.With(ErrorCodes.InvalidDeployment, $"Unknown deployment status '{Names.Show(request.Status)}': use {string.Join(", ", DeploymentStatuses.All)}.");
        }

        if (request.Endpoint is { } endpoint && (endpoint.Length > 2048 || !Uri.TryCreate(endpoint, UriKind.Absolute, out _)))
        {
            Fail.With(ErrorCodes.InvalidDeployment, $"The endpoint '{Names.Show(endpoint)}' is not an absolute URL (at most 2048 characters).");
        }

        if (request.Comment is { Length: > MaxCommentLength })
        {
            Fail.With(ErrorCodes.InvalidRequest, $"The comment is longer than {MaxCommentLength} characters.");
        }

        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var versionId = await lookup.ResolveIdAsync(entity, ModelLookup.ParseSelector(selector), allowAnyState: false, cancellationToken);
        var id = await db.InTransactionWithRetryAsync(async ct =>
        {
            // Serialises records for this model, so two versions cannot both become the one live in an environment.
            await lifecycle.LockModelAsync(entity.Id, ct);
            var now = clock.GetUtcNow().UtcDateTime;
            var version = await db.Versions.AsNoTracking().Where(v => v.Id == versionId).Select(v => new { v.Id, v.Number, v.State }).SingleAsync(ct);
            if (version.State != VersionState.Ready)
            {
                // Deleted (by retention, say) after the selector was resolved: a deleted version cannot go live.
                Fail.With(ErrorCodes.VersionNotReady, $"Version {ns}/{model}:{version.Number} is {DtoMapper.StateName(version.State)}.");
            }

            var active = request.Status is DeploymentStatuses.Deploying or DeploymentStatuses.Live;
            var current = await db.Deployments.Include(d => d.Version)
                .Where(d => d.ModelId == entity.Id && d.Environment == request.Environment && d.Current).ToListAsync(ct);
            foreach (var previous in current)
            {
                if (previous.VersionId == version.Id)
                {
                    previous.Current = false;
                }
                else if (active && previous.Status is DeploymentStatuses.Deploying or DeploymentStatuses.Live)
                {
                    previous.Current = false;
                    var retired = NewRecord(actor, entity, previous.VersionId, previous.Version.Number, request.Environment, previous.Endpoint, DeploymentStatuses.Retired,
                        $"replaced by {ns}/{model}:{version.Number}", now, previous.Status);
                    db.Deployments.Add(retired);
                }
            }

            var record = NewRecord(actor, entity, version.Id, version.Number, request.Environment, request.Endpoint, request.Status, request.Comment, now,
                current.FirstOrDefault(d => d.VersionId == version.Id)?.Status);
            db.Deployments.Add(record);
            await db.SaveChangesAsync(ct);
            return record.Id;
        }, cancellationToken);

        var saved = await Query().SingleAsync(d => d.Id == id, cancellationToken);
        return ToInfo(saved);
    }

    /// <summary>A model's deployment records, newest first; optionally one environment or one version.</summary>
    public async Task<Page<DeploymentInfo>> ListAsync(string ns, string model, string? environment, string? selector, Paging paging, CancellationToken cancellationToken)
    {
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var query = Query().Where(d => d.ModelId == entity.Id);
        if (environment is not null)
        {
            Fail.If(Names.CheckEnvironment(environment), ErrorCodes.InvalidDeployment);
            query = query.Where(d => d.Environment == environment);
        }

        if (selector is not null)
        {
            var versionId = await lookup.ResolveIdAsync(entity, ModelLookup.ParseSelector(selector), allowAnyState: true, cancellationToken);
            query = query.Where(d => d.VersionId == versionId);
        }

        var before = paging.Parts is null ? long.MaxValue : paging.AfterId();
        var rows = await query.Where(d => d.Id < before).OrderByDescending(d => d.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, d => d.Id);
        return new Page<DeploymentInfo>(page.Items.Select(ToInfo).ToList(), page.NextCursor);
    }

    /// <summary>A current record, with its audit entry and event (the caller adds it to the unit of work).</summary>
    private Deployment NewRecord(Actor actor, RegisteredModel model, long versionId, int number, string environment, string? endpoint, string status, string? comment, DateTime now, string? previousStatus)
    {
        audit.Record("deployment.record", model.Namespace.Name, $"{model.Namespace.Name}/{model.Name}:{number}", new Dictionary<string, object?>
        {
            ["environment"] = environment,
            ["status"] = status,
            ["endpoint"] = endpoint,
            ["comment"] = comment,
        });
        events.Publish(EventTypes.DeploymentRecorded, EventSubject.Of(model), number,
            new Dictionary<string, object?> { ["status"] = previousStatus },
            new Dictionary<string, object?> { ["status"] = status },
            new Dictionary<string, object?> { ["environment"] = environment, ["endpoint"] = endpoint, ["comment"] = comment });
        return new Deployment
        {
            ModelId = model.Id,
            VersionId = versionId,
            Environment = environment,
            Endpoint = endpoint,
            Status = status,
            At = now,
            ActorId = actor.IsUser ? actor.UserId : null,
            Comment = comment,
            Current = true,
        };
    }

    private IQueryable<Deployment> Query() =>
        db.Deployments.AsNoTracking().Include(d => d.Model).ThenInclude(m => m.Namespace).Include(d => d.Version).Include(d => d.Actor);

    private static DeploymentInfo ToInfo(Deployment d) => new(
        d.Id, d.Model.Namespace.Name, d.Model.Name, d.Version.Number, d.Environment, d.Endpoint, d.Status, DtoMapper.Utc(d.At), d.Actor?.Name ?? "system", d.Comment);
}
