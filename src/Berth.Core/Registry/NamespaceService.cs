using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

public sealed class NamespaceService(RegistryDbContext db, AccessControl access, TimeProvider clock)
{
    public async Task<Page<NamespaceInfo>> ListAsync(Actor actor, Paging paging, CancellationToken cancellationToken)
    {
        var after = paging.AfterString() ?? "";
        var rows = await db.Namespaces.AsNoTracking()
            .Where(n => n.DeletedAt == null && string.Compare(n.Name, after) > 0)
            .OrderBy(n => n.Name)
            .Take(paging.Limit + 1)
            .Select(n => new { Namespace = n, Models = n.Models.Count(m => m.DeletedAt == null) })
            .ToListAsync(cancellationToken);
        var page = paging.Page(rows, r => r.Namespace.Name);
        var visible = page.Items.Where(r => access.Can(actor, Permission.Read, r.Namespace.Name))
            .Select(r => ToInfo(r.Namespace, r.Models)).ToList();
        return new Page<NamespaceInfo>(visible, page.NextCursor);
    }

    public async Task<NamespaceInfo> GetAsync(string name, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNamespace(name), ErrorCodes.InvalidName);
        var row = await db.Namespaces.AsNoTracking()
            .Where(n => n.Name == name && n.DeletedAt == null)
            .Select(n => new { Namespace = n, Models = n.Models.Count(m => m.DeletedAt == null) })
            .FirstOrDefaultAsync(cancellationToken)
            ?? throw Fail.Error(ErrorCodes.NamespaceNotFound, $"Namespace '{name}' does not exist.");
        return ToInfo(row.Namespace, row.Models);
    }

    public async Task<NamespaceInfo> CreateAsync(Actor actor, CreateNamespaceRequest request, CancellationToken cancellationToken)
    {
        Fail.If(Names.CheckNamespace(request.Name), ErrorCodes.InvalidName);
        CheckDescription(request.Description);
        if (await db.Namespaces.AnyAsync(n => n.Name == request.Name, cancellationToken))
        {
            Fail.With(ErrorCodes.NamespaceExists, $"Namespace '{request.Name}' already exists.");
        }

        var entity = New(actor, request.Name, request.Description);
        db.Namespaces.Add(entity);
        await db.SaveChangesUniqueAsync(ErrorCodes.NamespaceExists, $"Namespace '{request.Name}' already exists.", cancellationToken);
        return ToInfo(entity, 0);
    }

    internal RegistryNamespace New(Actor actor, string name, string? description) => new()
    {
        Name = name,
        Description = description,
        Stages = string.Join(',', Names.DefaultStages),
        CreatedAt = clock.GetUtcNow().UtcDateTime,
        CreatedById = actor.UserId,
    };

    internal static void CheckDescription(string? description)
    {
        if (description is { Length: > Names.DescriptionMaxLength })
        {
            Fail.With(ErrorCodes.InvalidMetadata, $"The description is longer than {Names.DescriptionMaxLength} characters.");
        }
    }

    private static NamespaceInfo ToInfo(RegistryNamespace n, int models) =>
        new(n.Name, n.Description, DtoMapper.Utc(n.CreatedAt), models, ModelLookup.StageList(n));
}
