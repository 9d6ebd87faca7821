using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class VersionConfiguration :
    IEntityTypeConfiguration<ModelVersion>,
    IEntityTypeConfiguration<VersionFile>,
    IEntityTypeConfiguration<VersionMetric>,
    IEntityTypeConfiguration<VersionParam>,
    IEntityTypeConfiguration<VersionTag>,
    IEntityTypeConfiguration<VersionDataset>,
    IEntityTypeConfiguration<VersionParent>,
    IEntityTypeConfiguration<VersionEvaluation>,
    IEntityTypeConfiguration<VersionEvaluationMetric>
{
    public void Configure(EntityTypeBuilder<ModelVersion> builder)
    {
        builder.ToTable("versions");
        builder.Property(v => v.SemVer).HasMaxLength(128);
        builder.Property(v => v.ManifestDigest).HasMaxLength(71);
        builder.Property(v => v.Stage).HasMaxLength(32);
        builder.Property(v => v.Description).HasMaxLength(65536);
        builder.Property(v => v.RunId).HasMaxLength(256);
        builder.Property(v => v.GitRepository).HasMaxLength(2048);
        builder.Property(v => v.GitCommit).HasMaxLength(64);
        builder.Property(v => v.PendingAliases).HasMaxLength(2048);
        builder.Property(v => v.Revision).IsConcurrencyToken();

        builder.HasIndex(v => new { v.ModelId, v.Number }).IsUnique();
        builder.HasIndex(v => new { v.ModelId, v.SemVer }).IsUnique();
        builder.HasIndex(v => new { v.ModelId, v.Stage, v.StageChangedAt });
        // The catalog's per-model counts and latest versions (model_id IN page, state = ready): without it SQLite
        // plans these over (state, created_at) and scans every version.
        builder.HasIndex(v => new { v.ModelId, v.State, v.Number });
        builder.HasIndex(v => new { v.ModelId, v.ManifestDigest });
        builder.HasIndex(v => new { v.State, v.CreatedAt });
        // The versions a run produced (a run's page).
        builder.HasIndex(v => new { v.ModelId, v.RunId });

        builder.HasOne(v => v.Model).WithMany(m => m.Versions).HasForeignKey(v => v.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(v => v.CreatedBy).WithMany().HasForeignKey(v => v.CreatedById).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(v => v.Files).WithOne().HasForeignKey(f => f.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(v => v.Metrics).WithOne().HasForeignKey(m => m.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(v => v.Params).WithOne().HasForeignKey(p => p.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(v => v.Tags).WithOne().HasForeignKey(t => t.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(v => v.Datasets).WithOne().HasForeignKey(d => d.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(v => v.Parents).WithOne().HasForeignKey(p => p.VersionId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<VersionFile> builder)
    {
        builder.ToTable("version_files");
        builder.HasKey(f => new { f.VersionId, f.Path });
        builder.Property(f => f.Path).HasMaxLength(1024);
        builder.Property(f => f.Digest).HasMaxLength(71);
        builder.Property(f => f.MediaType).HasMaxLength(255);
        builder.HasIndex(f => f.Digest);

        // Only the files still waiting for their bytes: what commit and the end of an upload look for.
        builder.HasIndex(f => new { f.VersionId, f.Digest }).HasFilter("needs_upload").HasDatabaseName("ix_version_files_needs_upload");
    }

    public void Configure(EntityTypeBuilder<VersionMetric> builder)
    {
        builder.ToTable("version_metrics");
        builder.HasKey(m => new { m.VersionId, m.Name });
        builder.Property(m => m.Name).HasMaxLength(128);
        // Covers search sorted by a metric: walked in order for one name, it yields the versions without
        // touching the table, and ties come out in version order (the sort's tie-breaker).
        builder.HasIndex(m => new { m.Name, m.Value, m.VersionId });
        // An evaluation's row goes only with its version (both cascade from it); never block either delete.
        builder.HasOne(m => m.Evaluation).WithMany().HasForeignKey(m => m.EvaluationId).OnDelete(DeleteBehavior.SetNull);
        builder.HasIndex(m => m.EvaluationId);
    }

    public void Configure(EntityTypeBuilder<VersionEvaluation> builder)
    {
        builder.ToTable("version_evaluations");
        builder.Property(e => e.Dataset).HasMaxLength(2048);
        builder.Property(e => e.RunId).HasMaxLength(256);
        builder.Property(e => e.Note).HasMaxLength(4096);
        // A version's evaluations, newest first (keyset by id).
        builder.HasIndex(e => new { e.VersionId, e.Id });
        builder.HasOne(e => e.Version).WithMany().HasForeignKey(e => e.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(e => e.CreatedBy).WithMany().HasForeignKey(e => e.CreatedById).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(e => e.Metrics).WithOne().HasForeignKey(m => m.EvaluationId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<VersionEvaluationMetric> builder)
    {
        builder.ToTable("version_evaluation_metrics");
        builder.HasKey(m => new { m.EvaluationId, m.Name });
        builder.Property(m => m.Name).HasMaxLength(128);
    }

    public void Configure(EntityTypeBuilder<VersionParam> builder)
    {
        builder.ToTable("version_params");
        builder.HasKey(p => new { p.VersionId, p.Name });
        builder.Property(p => p.Name).HasMaxLength(128);
        builder.Property(p => p.Value).HasMaxLength(6000);
    }

    public void Configure(EntityTypeBuilder<VersionTag> builder)
    {
        builder.ToTable("version_tags");
        builder.HasKey(t => new { t.VersionId, t.Key });
        builder.Property(t => t.Key).HasMaxLength(128);
        builder.Property(t => t.Value).HasMaxLength(1024);
        builder.HasIndex(t => new { t.Key, t.Value });
    }

    public void Configure(EntityTypeBuilder<VersionDataset> builder)
    {
        builder.ToTable("version_datasets");
        builder.HasKey(d => new { d.VersionId, d.Ordinal });
        builder.Property(d => d.Uri).HasMaxLength(2048);
        builder.Property(d => d.Digest).HasMaxLength(256);
    }

    public void Configure(EntityTypeBuilder<VersionParent> builder)
    {
        builder.ToTable("version_parents");
        builder.HasKey(p => new { p.VersionId, p.Ordinal });
        builder.HasOne(p => p.Parent).WithMany().HasForeignKey(p => p.ParentVersionId).OnDelete(DeleteBehavior.Restrict);
        builder.HasIndex(p => p.ParentVersionId);
    }
}
