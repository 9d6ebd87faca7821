using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class StorageConfiguration :
    IEntityTypeConfiguration<StoredBlob>,
    IEntityTypeConfiguration<UploadSession>,
    IEntityTypeConfiguration<IdempotencyRecord>
{
    public void Configure(EntityTypeBuilder<StoredBlob> builder)
    {
        builder.ToTable("blobs");
        builder.HasKey(b => b.Digest);
        builder.Property(b => b.Digest).HasMaxLength(71);
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
