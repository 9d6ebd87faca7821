using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class ModelConfiguration :
    IEntityTypeConfiguration<RegistryNamespace>,
    IEntityTypeConfiguration<RegisteredModel>,
    IEntityTypeConfiguration<ModelTag>,
    IEntityTypeConfiguration<ModelAlias>,
    IEntityTypeConfiguration<ModelHistoryEntry>
{
    public void Configure(EntityTypeBuilder<RegistryNamespace> builder)
    {
        builder.ToTable("namespaces");
        builder.Property(n => n.Name).HasMaxLength(64);
        builder.Property(n => n.Description).HasMaxLength(65536);
        builder.Property(n => n.ScanPolicy).HasMaxLength(16);
        builder.HasIndex(n => n.Name).IsUnique();
    }

    public void Configure(EntityTypeBuilder<RegisteredModel> builder)
    {
        builder.ToTable("models");
        builder.Property(m => m.Name).HasMaxLength(128);
        builder.Property(m => m.Description).HasMaxLength(65536);
        builder.Property(m => m.Revision).IsConcurrencyToken();
        builder.HasIndex(m => new { m.NamespaceId, m.Name }).IsUnique();
        // The models dashboard's keyset orders: recently updated, and by name.
        builder.HasIndex(m => new { m.UpdatedAt, m.Id });
        builder.HasIndex(m => new { m.Name, m.Id });
        builder.HasOne(m => m.Namespace).WithMany(n => n.Models).HasForeignKey(m => m.NamespaceId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(m => m.Tags).WithOne().HasForeignKey(t => t.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(m => m.Aliases).WithOne().HasForeignKey(a => a.ModelId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ModelTag> builder)
    {
        builder.ToTable("model_tags");
        builder.HasKey(t => new { t.ModelId, t.Key });
        builder.Property(t => t.Key).HasMaxLength(128);
        builder.Property(t => t.Value).HasMaxLength(1024);
    }

    public void Configure(EntityTypeBuilder<ModelAlias> builder)
    {
        builder.ToTable("aliases");
        builder.Property(a => a.Name).HasMaxLength(64);
        builder.Property(a => a.Revision).IsConcurrencyToken();
        builder.HasIndex(a => new { a.ModelId, a.Name }).IsUnique();
        builder.HasIndex(a => a.VersionId);
        builder.HasOne(a => a.Version).WithMany(v => v.Aliases).HasForeignKey(a => a.VersionId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(a => a.UpdatedBy).WithMany().HasForeignKey(a => a.UpdatedById).OnDelete(DeleteBehavior.Restrict);
    }

    public void Configure(EntityTypeBuilder<ModelHistoryEntry> builder)
    {
        builder.ToTable("model_history");
        builder.Property(h => h.Alias).HasMaxLength(64);
        builder.Property(h => h.FromStage).HasMaxLength(32);
        builder.Property(h => h.ToStage).HasMaxLength(32);
        builder.Property(h => h.Comment).HasMaxLength(4096);
        builder.Property(h => h.Event).HasMaxLength(16);
        builder.HasIndex(h => new { h.ModelId, h.At });
        builder.HasIndex(h => new { h.ModelId, h.Id });
        // A version's own timeline (the version page).
        builder.HasIndex(h => new { h.VersionId, h.Id });
        builder.HasOne(h => h.Actor).WithMany().HasForeignKey(h => h.ActorId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<RegisteredModel>().WithMany().HasForeignKey(h => h.ModelId).OnDelete(DeleteBehavior.Cascade);
    }
}
