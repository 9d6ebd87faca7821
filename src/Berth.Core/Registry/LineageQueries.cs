using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// Lineage read the other way: the children of a version, i.e. the ready versions whose lineage names it as a parent
/// (<c>version_parents</c>, indexed by parent), limited to the namespaces the caller may read.
/// </summary>
public sealed class LineageQueries(RegistryDbContext db, AccessControl access)
{
    /// <summary>
    /// Up to <paramref name="limit"/> children of version <paramref name="number"/> of <c>ns/model</c> that
    /// <paramref name="actor"/> may read, as <c>namespace/model:number</c>, oldest first.
    /// </summary>
    public async Task<IReadOnlyList<string>> ChildrenAsync(Actor actor, string ns, string model, int number, int limit, CancellationToken cancellationToken)
    {
        var readable = await access.ReadableNamespaceIdsAsync(actor, cancellationToken);
        var children = db.VersionParents.AsNoTracking()
            .Where(p => p.Parent.Number == number && p.Parent.Model.Name == model && p.Parent.Model.Namespace.Name == ns)
            .Join(db.Versions, p => p.VersionId, v => v.Id, (p, v) => v)
            .Where(v => v.State == VersionState.Ready && v.Model.DeletedAt == null && v.Model.Namespace.DeletedAt == null);
        if (readable is not null)
        {
            var ids = readable.ToList();
            children = children.Where(v => ids.Contains(v.Model.NamespaceId));
        }

        var rows = await children.OrderBy(v => v.Id).Select(v => new { Namespace = v.Model.Namespace.Name, Model = v.Model.Name, v.Number })
            .Take(limit).ToListAsync(cancellationToken);
        return rows.Select(r => $"{r.Namespace}/{r.Model}:{r.Number}").Distinct(StringComparer.Ordinal).ToList();
    }
}
