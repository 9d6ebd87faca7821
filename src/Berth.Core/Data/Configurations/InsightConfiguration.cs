using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class InsightConfiguration :
    IEntityTypeConfiguration<VersionInsightRecord>,
    IEntityTypeConfiguration<VersionFileInsight>
{
    public void Configure(EntityTypeBuilder<VersionInsightRecord> builder)
    {
        builder.ToTable("version_insights");
        builder.HasKey(i => i.VersionId);
        builder.HasOne<ModelVersion>().WithOne(v => v.Insight).HasForeignKey<VersionInsightRecord>(i => i.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(i => i.State).HasMaxLength(16);
        builder.Property(i => i.Reason).HasMaxLength(2048);
        builder.Property(i => i.LeaseOwner).HasMaxLength(64);
        builder.Property(i => i.Framework).HasMaxLength(64);
        builder.Property(i => i.Format).HasMaxLength(32);
        builder.Property(i => i.Precision).HasMaxLength(32);
        builder.Property(i => i.Quantization).HasMaxLength(64);
        builder.Property(i => i.ScanVerdict).HasMaxLength(16);
        // The worker's queue: pending rows oldest first.
        builder.HasIndex(i => new { i.State, i.QueuedAt });
        // metadata.framework = '…', metadata.format = '…' over many versions.
        builder.HasIndex(i => i.Framework);
        builder.HasIndex(i => i.Format);
    }

    public void Configure(EntityTypeBuilder<VersionFileInsight> builder)
    {
        builder.ToTable("version_file_insights");
        builder.HasKey(f => new { f.VersionId, f.Path });
        builder.HasOne<ModelVersion>().WithMany().HasForeignKey(f => f.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.Property(f => f.Path).HasMaxLength(1024);
        builder.Property(f => f.Digest).HasMaxLength(71);
        builder.Property(f => f.Name).HasMaxLength(1024);
        builder.Property(f => f.Format).HasMaxLength(32);
        builder.Property(f => f.Verdict).HasMaxLength(16);
        // Another version's reading of the same bytes.
        builder.HasIndex(f => new { f.Digest, f.Analyzer });
    }
}
