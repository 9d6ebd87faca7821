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
/// Evaluations: metrics measured on a ready version after its push (docs/runs.md, "Evaluations"). Each is kept whole (who,
/// when, dataset, run, its metrics) and makes its values the version's effective ones — what search, sorting, charts and
/// stage gates read —, while the pushed values stay beside them (<see cref="VersionMetric.Pushed"/>): the latest
/// evaluation of a metric wins, else the pushed value.
/// </summary>
public sealed class EvaluationService(
    RegistryDbContext db,
    ModelLookup lookup,
    VersionService versions,
    AuditTrail audit,
    EventLog events,
    TimeProvider clock)
{
    public const int MaxDatasetLength = 2048;
    public const int MaxNoteLength = 4096;

    /// <summary>
    /// Records an evaluation of a ready version (409 <c>version_not_ready</c>, 410 <c>version_deleted</c> otherwise): its
    /// metrics become the version's effective values; audit <c>version.evaluate</c>, event <c>version.evaluated</c>. The
    /// version's row is locked first, so concurrent evaluations are ordered and the later one's values win.
    /// </summary>
    public async Task<EvaluationInfo> EvaluateAsync(Actor actor, string ns, string model, string selector, CreateEvaluationRequest request, CancellationToken cancellationToken)
    {
        Validate(request);
        var id = await versions.ResolveAsync(ns, model, selector, allowAnyState: false, cancellationToken);
        await versions.CheckRunAsync(ns, model, request.Run, cancellationToken);
        var entity = await lookup.GetModelAsync(ns, model, cancellationToken);
        var evaluationId = await db.InTransactionWithRetryAsync(async ct =>
        {
            var version = await db.LockedRow<ModelVersion>(id).Include(v => v.Metrics).SingleAsync(ct);
            var reference = $"{ns}/{model}:{version.Number}";
            if (version.State != VersionState.Ready)
            {
                throw version.State == VersionState.Deleted
                    ? Fail.Error(ErrorCodes.VersionDeleted, $"Version '{reference}' was deleted.")
                    : Fail.Error(ErrorCodes.VersionNotReady, $"Version '{reference}' is {DtoMapper.StateName(version.State)}, not ready.");
            }

            var evaluation = new VersionEvaluation
            {
                VersionId = version.Id,
                Dataset = request.Dataset,
                RunId = request.Run,
                Note = string.IsNullOrEmpty(request.Note) ? null : request.Note,
                CreatedById = actor.UserId,
                CreatedAt = clock.GetUtcNow().UtcDateTime,
                Metrics = request.Metrics!.Select(m => new VersionEvaluationMetric { Name = m.Key, Value = m.Value }).ToList(),
            };
            db.VersionEvaluations.Add(evaluation);
            var before = new Dictionary<string, object?>(StringComparer.Ordinal);
            foreach (var (name, value) in request.Metrics!.OrderBy(m => m.Key, StringComparer.Ordinal))
            {
                var row = version.Metrics.FirstOrDefault(m => m.Name == name);
                before[name] = row?.Value;
                if (row is null)
                {
                    version.Metrics.Add(new VersionMetric { Name = name, Value = value, Evaluation = evaluation });
                }
                else
                {
                    row.Value = value;
                    row.Evaluation = evaluation;
                }
            }

            if (version.Metrics.Count > VersionRequestValidator.MaxEntries)
            {
                Fail.With(ErrorCodes.InvalidMetadata, $"A version may have at most {VersionRequestValidator.MaxEntries} metrics; {reference} would have {version.Metrics.Count}.");
            }

            version.Revision++;
            var after = request.Metrics!.OrderBy(m => m.Key, StringComparer.Ordinal).ToDictionary(m => m.Key, m => (object?)m.Value, StringComparer.Ordinal);
            await db.SaveChangesAsync(ct);
            var details = new Dictionary<string, object?>
            {
                ["evaluation"] = evaluation.Id,
                ["dataset"] = evaluation.Dataset,
                ["run"] = evaluation.RunId,
                ["before"] = before,
                ["after"] = after,
            };
            audit.Record("version.evaluate", ns, reference, details);
            events.Publish(EventTypes.VersionEvaluated, EventSubject.Of(entity), version.Number,
                new Dictionary<string, object?> { ["metrics"] = before }, new Dictionary<string, object?> { ["metrics"] = after },
                new Dictionary<string, object?> { ["evaluation"] = evaluation.Id, ["dataset"] = evaluation.Dataset, ["run"] = evaluation.RunId, ["semver"] = version.SemVer });
            await db.SaveChangesAsync(ct);
            return evaluation.Id;
        }, cancellationToken);
        db.ChangeTracker.Clear();
        return await GetAsync(evaluationId, cancellationToken);
    }

    /// <summary>A version's evaluations, newest first, keyset-paged (a deleted version's too: its history stays readable).</summary>
    public async Task<Page<EvaluationInfo>> ListAsync(string ns, string model, string selector, Paging paging, CancellationToken cancellationToken)
    {
        var id = await versions.ResolveAsync(ns, model, selector, allowAnyState: true, cancellationToken);
        return await ListAsync(id, paging, cancellationToken);
    }

    /// <summary>The evaluations of version <paramref name="versionId"/>, newest first.</summary>
    public async Task<Page<EvaluationInfo>> ListAsync(long versionId, Paging paging, CancellationToken cancellationToken)
    {
        var before = paging.Parts is null ? long.MaxValue : paging.AfterId();
        var rows = await db.VersionEvaluations.AsNoTracking().AsSplitQuery()
            .Include(e => e.Metrics).Include(e => e.CreatedBy).Include(e => e.Version).ThenInclude(v => v.Model).ThenInclude(m => m.Namespace)
            .Where(e => e.VersionId == versionId && e.Id < before)
            .OrderByDescending(e => e.Id).Take(paging.Limit + 1).ToListAsync(cancellationToken);
        var page = paging.Page(rows, e => e.Id);
        return new Page<EvaluationInfo>(page.Items.Select(Info).ToList(), page.NextCursor);
    }

    private async Task<EvaluationInfo> GetAsync(long id, CancellationToken cancellationToken)
    {
        var row = await db.VersionEvaluations.AsNoTracking().AsSplitQuery()
            .Include(e => e.Metrics).Include(e => e.CreatedBy).Include(e => e.Version).ThenInclude(v => v.Model).ThenInclude(m => m.Namespace)
            .OrderBy(e => e.Id).SingleAsync(e => e.Id == id, cancellationToken);
        return Info(row);
    }

    private static EvaluationInfo Info(VersionEvaluation e) => DtoMapper.ToInfo(e, e.Version.Model.Namespace.Name, e.Version.Model.Name, e.Version.Number);

    /// <summary>1 to 1000 metrics named and valued as at push (finite numbers); a dataset, run and note of bounded printable text.</summary>
    private static void Validate(CreateEvaluationRequest request)
    {
        if (request.Metrics is not { Count: > 0 } metrics)
        {
            Fail.With(ErrorCodes.InvalidMetadata, "An evaluation needs at least one metric, e.g. {\"metrics\": {\"auc\": 0.93}}.");
            return;
        }

        if (metrics.Count > VersionRequestValidator.MaxEntries)
        {
            Fail.With(ErrorCodes.InvalidMetadata, $"At most {VersionRequestValidator.MaxEntries} metrics.");
        }

        foreach (var (name, value) in metrics)
        {
            Fail.If(Names.CheckKey("metric", name), ErrorCodes.InvalidMetadata);
            if (!double.IsFinite(value))
            {
                Fail.With(ErrorCodes.InvalidMetadata, $"Metric '{name}' is not a finite number.");
            }
        }

        Text(request.Dataset, "dataset", MaxDatasetLength, multiline: false);
        Text(request.Note, "note", MaxNoteLength, multiline: true);
        if (request.Run is not null && (request.Run.Length is 0 or > 256 || request.Run.Any(char.IsControl)))
        {
            Fail.With(ErrorCodes.InvalidMetadata, "run must be the id of a run of the version's model (as 'berth run start' prints it after the model).");
        }
    }

    private static void Text(string? value, string field, int max, bool multiline)
    {
        if (value is null)
        {
            return;
        }

        if ((!multiline && value.Length == 0) || value.Length > max || value.Any(c => char.IsControl(c) && !(multiline && c is '\n' or '\r' or '\t')))
        {
            Fail.With(ErrorCodes.InvalidMetadata, $"{field} must be {(multiline ? 0 : 1)}-{max} printable characters.");
        }
    }
}
