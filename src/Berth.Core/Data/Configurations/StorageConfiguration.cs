using Berth.Core.Data.Entities;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class StorageConfiguration :
    IEntityTypeConfiguration<StoredBlob>,
    IEntityTypeConfiguration<UploadSession>,
    IEntityTypeConfiguration<IdempotencyRecord>,
    IEntityTypeConfiguration<Lease>,
    IEntityTypeConfiguration<ScrubRun>,
    IEntityTypeConfiguration<RetentionPolicy>,
    IEntityTypeConfiguration<DataProtectionKey>
{
    public void Configure(EntityTypeBuilder<StoredBlob> builder)
    {
        builder.ToTable("blobs");
        builder.HasKey(b => b.Digest);
        builder.Property(b => b.Digest).HasMaxLength(71);
        builder.HasIndex(b => b.DeletingAt);
        builder.Property(b => b.QuarantineReason).HasMaxLength(32);
    }

    public void Configure(EntityTypeBuilder<DataProtectionKey> builder) => builder.ToTable("data_protection_keys");

    public void Configure(EntityTypeBuilder<RetentionPolicy> builder)
    {
        builder.ToTable("retention_policies");
        builder.HasKey(r => new { r.NamespaceId, r.ModelId });
        builder.HasOne<RegistryNamespace>().WithMany().HasForeignKey(r => r.NamespaceId);
        builder.Property(r => r.KeepStages).HasMaxLength(2048);
    }

    public void Configure(EntityTypeBuilder<ScrubRun> builder)
    {
        builder.ToTable("scrub_runs");
        builder.HasKey(r => r.Id);
    }

    public void Configure(EntityTypeBuilder<Lease> builder)
    {
        builder.ToTable("leases");
        builder.HasKey(l => l.Name);
        builder.Property(l => l.Name).HasMaxLength(64);
        builder.Property(l => l.Owner).HasMaxLength(64);
    }

    public void Configure(EntityTypeBuilder<UploadSession> builder)
    {
        builder.ToTable("upload_sessions");
        builder.HasKey(u => u.Id);
        builder.Property(u => u.Id).HasMaxLength(32);
        builder.Property(u => u.Namespace).HasMaxLength(64);
        builder.Property(u => u.Model).HasMaxLength(128);
        builder.HasIndex(u => u.ExpiresAt);
    }

    public void Configure(EntityTypeBuilder<IdempotencyRecord> builder)
    {
        builder.ToTable("idempotency_records");
        builder.HasKey(r => new { r.UserId, r.Key });
        builder.Property(r => r.Key).HasMaxLength(255);
        builder.Property(r => r.RequestHash).HasMaxLength(64);
        builder.Property(r => r.ContentType).HasMaxLength(255);
        builder.Property(r => r.Location).HasMaxLength(2048);
        builder.Property(r => r.ETag).HasMaxLength(64);
        builder.HasIndex(r => r.ExpiresAt);
    }
}
