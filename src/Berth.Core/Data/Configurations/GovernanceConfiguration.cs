using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class GovernanceConfiguration :
    IEntityTypeConfiguration<Team>,
    IEntityTypeConfiguration<TeamMember>,
    IEntityTypeConfiguration<NamespaceMember>,
    IEntityTypeConfiguration<StageRule>,
    IEntityTypeConfiguration<ProtectedAlias>,
    IEntityTypeConfiguration<TransitionRequest>,
    IEntityTypeConfiguration<RequestReview>,
    IEntityTypeConfiguration<AuditEntry>,
    IEntityTypeConfiguration<AuditHead>
{
    public void Configure(EntityTypeBuilder<Team> builder)
    {
        builder.ToTable("teams");
        builder.Property(t => t.Name).HasMaxLength(64);
        builder.Property(t => t.Description).HasMaxLength(4096);
        builder.Property(t => t.ExternalGroup).HasMaxLength(256);
        builder.HasIndex(t => t.Name).IsUnique();
        builder.HasIndex(t => t.ExternalGroup);
        builder.HasMany(t => t.Members).WithOne().HasForeignKey(m => m.TeamId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<TeamMember> builder)
    {
        builder.ToTable("team_members");
        builder.HasKey(m => new { m.TeamId, m.UserId });
        builder.HasIndex(m => m.UserId);
        builder.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<NamespaceMember> builder)
    {
        builder.ToTable("namespace_members");
        builder.HasIndex(m => new { m.NamespaceId, m.UserId }).IsUnique();
        builder.HasIndex(m => new { m.NamespaceId, m.TeamId }).IsUnique();
        builder.HasIndex(m => m.UserId);
        builder.HasIndex(m => m.TeamId);
        builder.HasOne<RegistryNamespace>().WithMany().HasForeignKey(m => m.NamespaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(m => m.User).WithMany().HasForeignKey(m => m.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(m => m.Team).WithMany().HasForeignKey(m => m.TeamId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<StageRule> builder)
    {
        builder.ToTable("stage_rules");
        builder.Property(r => r.Stage).HasMaxLength(32);
        builder.Property(r => r.Gate).HasMaxLength(4096);
        builder.HasIndex(r => new { r.NamespaceId, r.ModelId, r.Stage }).IsUnique();
        builder.HasIndex(r => new { r.NamespaceId, r.Stage }).IsUnique().HasFilter("model_id IS NULL");
        builder.HasOne<RegistryNamespace>().WithMany().HasForeignKey(r => r.NamespaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne<RegisteredModel>().WithMany().HasForeignKey(r => r.ModelId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<ProtectedAlias> builder)
    {
        builder.ToTable("protected_aliases");
        builder.Property(a => a.Name).HasMaxLength(64);
        builder.HasIndex(a => new { a.ModelId, a.Name }).IsUnique();
        builder.HasOne<RegisteredModel>().WithMany().HasForeignKey(a => a.ModelId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<TransitionRequest> builder)
    {
        builder.ToTable("transition_requests");
        builder.Property(r => r.Stage).HasMaxLength(32);
        builder.Property(r => r.Alias).HasMaxLength(64);
        builder.Property(r => r.Comment).HasMaxLength(4096);
        builder.Property(r => r.CloseReason).HasMaxLength(4096);
        builder.Property(r => r.Gate).HasMaxLength(4096);
        builder.Property(r => r.GateResult).HasMaxLength(16384);
        builder.Property(r => r.Revision).IsConcurrencyToken();
        builder.HasIndex(r => new { r.ModelId, r.State });
        builder.HasIndex(r => new { r.State, r.CreatedAt });
        builder.HasOne(r => r.Model).WithMany().HasForeignKey(r => r.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(r => r.Version).WithMany().HasForeignKey(r => r.VersionId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(r => r.Requester).WithMany().HasForeignKey(r => r.RequesterId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(r => r.ClosedBy).WithMany().HasForeignKey(r => r.ClosedById).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(r => r.Reviews).WithOne().HasForeignKey(v => v.RequestId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<RequestReview> builder)
    {
        builder.ToTable("request_reviews");
        builder.Property(v => v.Comment).HasMaxLength(4096);
        builder.HasIndex(v => new { v.RequestId, v.ReviewerId }).IsUnique();
        builder.HasOne(v => v.Reviewer).WithMany().HasForeignKey(v => v.ReviewerId).OnDelete(DeleteBehavior.Restrict);
    }

    public void Configure(EntityTypeBuilder<AuditEntry> builder)
    {
        builder.ToTable("audit_log");
        builder.Property(a => a.Id).ValueGeneratedNever();
        builder.Property(a => a.Actor).HasMaxLength(64);
        builder.Property(a => a.Action).HasMaxLength(64);
        builder.Property(a => a.Namespace).HasMaxLength(64);
        builder.Property(a => a.Target).HasMaxLength(512);
        builder.Property(a => a.ClientAddress).HasMaxLength(64);
        builder.Property(a => a.RequestId).HasMaxLength(128);
        builder.Property(a => a.PreviousHash).HasMaxLength(64);
        builder.Property(a => a.Hash).HasMaxLength(64);
        builder.HasIndex(a => a.At);
    }

    public void Configure(EntityTypeBuilder<AuditHead> builder)
    {
        builder.ToTable("audit_head");
        builder.Property(h => h.Id).ValueGeneratedNever();
        builder.Property(h => h.LastHash).HasMaxLength(64);
        builder.Property(h => h.LastId).IsConcurrencyToken();
    }
}
