using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class RunConfiguration :
    IEntityTypeConfiguration<Run>,
    IEntityTypeConfiguration<RunParam>,
    IEntityTypeConfiguration<RunTag>,
    IEntityTypeConfiguration<RunDataset>,
    IEntityTypeConfiguration<RunMetric>,
    IEntityTypeConfiguration<RunMetricChunk>,
    IEntityTypeConfiguration<RunBatch>,
    IEntityTypeConfiguration<RunFile>,
    IEntityTypeConfiguration<ModelUpload>
{
    public void Configure(EntityTypeBuilder<Run> builder)
    {
        builder.ToTable("runs");
        builder.Property(r => r.PublicId).HasMaxLength(16);
        builder.Property(r => r.Name).HasMaxLength(256);
        builder.Property(r => r.Status).HasConversion<LowercaseEnumConverter<RunStatus>>().HasMaxLength(16);
        builder.Property(r => r.Note).HasMaxLength(65536);
        builder.Property(r => r.GitRepository).HasMaxLength(2048);
        builder.Property(r => r.GitCommit).HasMaxLength(64);
        builder.Property(r => r.ParentRunId).HasMaxLength(16);
        builder.Property(r => r.Environment).HasMaxLength(65536);
        builder.Property(r => r.Revision).IsConcurrencyToken();

        builder.HasIndex(r => r.PublicId).IsUnique();
        builder.HasIndex(r => new { r.ModelId, r.StartedAt, r.Id });
        // The heartbeat watch: running runs by their last sign of life.
        builder.HasIndex(r => new { r.Status, r.HeartbeatAt });
        // Garbage collection's purge: deleted runs not purged yet.
        builder.HasIndex(r => new { r.DeletedAt, r.PurgedAt });

        builder.HasOne(r => r.Model).WithMany().HasForeignKey(r => r.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(r => r.CreatedBy).WithMany().HasForeignKey(r => r.CreatedById).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(r => r.Params).WithOne().HasForeignKey(p => p.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(r => r.Tags).WithOne().HasForeignKey(t => t.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(r => r.Datasets).WithOne().HasForeignKey(d => d.RunId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(r => r.Metrics).WithOne().HasForeignKey(m => m.RunId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<RunParam> builder)
    {
        builder.ToTable("run_params");
        builder.HasKey(p => new { p.RunId, p.Name });
        builder.Property(p => p.Name).HasMaxLength(128);
        builder.Property(p => p.Value).HasMaxLength(6000);
    }

    public void Configure(EntityTypeBuilder<RunTag> builder)
    {
        builder.ToTable("run_tags");
        builder.HasKey(t => new { t.RunId, t.Key });
        builder.Property(t => t.Key).HasMaxLength(128);
        builder.Property(t => t.Value).HasMaxLength(1024);
    }

    public void Configure(EntityTypeBuilder<RunDataset> builder)
    {
        builder.ToTable("run_datasets");
        builder.HasKey(d => new { d.RunId, d.Ordinal });
        builder.Property(d => d.Uri).HasMaxLength(2048);
        builder.Property(d => d.Digest).HasMaxLength(256);
    }

    public void Configure(EntityTypeBuilder<RunMetric> builder)
    {
        builder.ToTable("run_metrics");
        builder.HasKey(m => new { m.RunId, m.Key });
        builder.Property(m => m.Key).HasMaxLength(128);
        // Sorting runs by a metric walks this index for one key (ties in run order, the sort's tie-breaker).
        builder.HasIndex(m => new { m.Key, m.Last, m.RunId });
    }

    public void Configure(EntityTypeBuilder<RunMetricChunk> builder)
    {
        builder.ToTable("run_metric_chunks");
        builder.Property(c => c.Key).HasMaxLength(128);
        // Covering: a downsampling read is answered from this index alone, without reading any chunk's bytes.
        builder.HasIndex(c => new { c.RunId, c.Key, c.FirstStep, c.LastStep, c.Count, c.Min, c.Max, c.Last, c.Id })
            .HasDatabaseName("ix_run_metric_chunks_summary");
        builder.HasOne<Run>().WithMany().HasForeignKey(c => c.RunId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<RunBatch> builder)
    {
        builder.ToTable("run_batches");
        builder.HasKey(b => new { b.RunId, b.BatchId });
        builder.Property(b => b.BatchId).HasMaxLength(64);
        builder.HasOne<Run>().WithMany().HasForeignKey(b => b.RunId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<RunFile> builder)
    {
        builder.ToTable("run_files");
        builder.HasKey(f => new { f.RunId, f.Path });
        builder.Property(f => f.Path).HasMaxLength(1024);
        builder.Property(f => f.Digest).HasMaxLength(71);
        builder.Property(f => f.MediaType).HasMaxLength(255);
        // Garbage collection asks whether any run file references a blob.
        builder.HasIndex(f => f.Digest);
        builder.HasOne<Run>().WithMany().HasForeignKey(f => f.RunId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ModelUpload> builder)
    {
        builder.ToTable("model_uploads");
        builder.HasKey(u => new { u.ModelId, u.Digest });
        builder.Property(u => u.Digest).HasMaxLength(71);
        builder.HasIndex(u => u.UploadedAt);
        builder.HasOne<RegisteredModel>().WithMany().HasForeignKey(u => u.ModelId).OnDelete(DeleteBehavior.Cascade);
    }
}
