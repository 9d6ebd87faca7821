using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class OciConfiguration :
    IEntityTypeConfiguration<OciManifest>,
    IEntityTypeConfiguration<OciBlobRef>,
    IEntityTypeConfiguration<OciTag>
{
    public void Configure(EntityTypeBuilder<OciManifest> builder)
    {
        builder.ToTable("oci_manifests");
        builder.Property(m => m.Repository).HasConversion<LowercaseEnumConverter<OciRepository>>().HasMaxLength(16);
        builder.Property(m => m.Origin).HasConversion<LowercaseEnumConverter<OciManifestOrigin>>().HasMaxLength(16);
        builder.Property(m => m.Digest).HasMaxLength(71);
        builder.Property(m => m.MediaType).HasMaxLength(255);
        builder.Property(m => m.ArtifactType).HasMaxLength(255);
        builder.Property(m => m.Subject).HasMaxLength(71);
        builder.HasIndex(m => new { m.ModelId, m.Repository, m.Digest }).IsUnique();
        // One OCI form per version and repository (NULLs, the pushed non-model manifests, never collide).
        builder.HasIndex(m => new { m.VersionId, m.Repository }).IsUnique();
        builder.HasIndex(m => new { m.ModelId, m.Subject });
        builder.HasOne<RegisteredModel>().WithMany().HasForeignKey(m => m.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<ModelVersion>().WithMany().HasForeignKey(m => m.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasMany(m => m.Blobs).WithOne().HasForeignKey(b => b.ManifestId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<OciBlobRef> builder)
    {
        builder.ToTable("oci_blob_refs");
        builder.HasKey(b => new { b.ManifestId, b.Digest });
        builder.Property(b => b.Digest).HasMaxLength(71);
        builder.HasIndex(b => b.Digest);
    }

    public void Configure(EntityTypeBuilder<OciTag> builder)
    {
        builder.ToTable("oci_tags");
        builder.HasKey(t => new { t.ModelId, t.Name });
        builder.Property(t => t.Name).HasMaxLength(128);
        builder.HasIndex(t => t.ManifestId);
        builder.HasOne<RegisteredModel>().WithMany().HasForeignKey(t => t.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(t => t.Manifest).WithMany().HasForeignKey(t => t.ManifestId).OnDelete(DeleteBehavior.Cascade);
    }
}
