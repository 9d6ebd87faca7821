using Berth.Contracts.Dtos;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>Shared query shapes, so every endpoint loads a version the same way.</summary>
internal static class RegistryQueries
{
    /// <summary>Everything <see cref="DtoMapper.ToInfo(ModelVersion, bool)"/> reads, except the file list.</summary>
    public static IQueryable<ModelVersion> WithDetails(this IQueryable<ModelVersion> query) =>
        query
            .Include(v => v.Model).ThenInclude(m => m.Namespace)
            .Include(v => v.CreatedBy)
            .Include(v => v.Metrics).ThenInclude(m => m.Evaluation).ThenInclude(e => e!.CreatedBy)
            .Include(v => v.Params)
            .Include(v => v.Tags)
            .Include(v => v.Datasets)
            .Include(v => v.Parents).ThenInclude(p => p.Parent).ThenInclude(p => p.Model).ThenInclude(m => m.Namespace)
            .Include(v => v.Aliases)
            .Include(v => v.Insight)
            .Include(v => v.Deployments.Where(d => d.Current && d.Status != DeploymentStatuses.Retired))
            .AsSplitQuery();

    public static IQueryable<ModelVersion> Visible(this IQueryable<ModelVersion> query) =>
        query.Where(v => v.State == VersionState.Ready);
}
