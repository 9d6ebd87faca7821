using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class EventsConfiguration :
    IEntityTypeConfiguration<EventRecord>,
    IEntityTypeConfiguration<EventHead>,
    IEntityTypeConfiguration<Webhook>,
    IEntityTypeConfiguration<WebhookDelivery>,
    IEntityTypeConfiguration<WebhookAttempt>,
    IEntityTypeConfiguration<Deployment>
{
    public void Configure(EntityTypeBuilder<EventRecord> builder)
    {
        builder.ToTable("events");
        // The outbox interceptor assigns ids in commit order; the database never generates them.
        builder.Property(e => e.Id).ValueGeneratedNever();
        builder.Property(e => e.Type).HasMaxLength(64);
        builder.Property(e => e.Actor).HasMaxLength(128);
        builder.Property(e => e.Namespace).HasMaxLength(64);
        builder.Property(e => e.Model).HasMaxLength(160);
        builder.HasIndex(e => new { e.NamespaceId, e.Id });
        builder.HasIndex(e => new { e.ModelId, e.Id });
    }

    public void Configure(EntityTypeBuilder<EventHead> builder)
    {
        builder.ToTable("event_head");
        builder.Property(h => h.Id).ValueGeneratedNever();
    }

    public void Configure(EntityTypeBuilder<Webhook> builder)
    {
        builder.ToTable("webhooks");
        builder.Property(w => w.Url).HasMaxLength(2048);
        builder.Property(w => w.Events).HasMaxLength(2048);
        builder.Property(w => w.Description).HasMaxLength(1024);
        builder.Property(w => w.ProtectedSecret).HasMaxLength(2048);
        builder.Property(w => w.LegacySecret).HasColumnName("secret").HasMaxLength(256);
        builder.Property(w => w.DisabledReason).HasMaxLength(1024);
        builder.Property(w => w.Revision).IsConcurrencyToken();
        builder.HasIndex(w => new { w.NamespaceId, w.Enabled });
        builder.HasOne(w => w.Namespace).WithMany().HasForeignKey(w => w.NamespaceId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(w => w.Model).WithMany().HasForeignKey(w => w.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(w => w.CreatedBy).WithMany().HasForeignKey(w => w.CreatedById).OnDelete(DeleteBehavior.Restrict);
    }

    public void Configure(EntityTypeBuilder<WebhookDelivery> builder)
    {
        builder.ToTable("webhook_deliveries");
        builder.Property(d => d.EventType).HasMaxLength(64);
        builder.Property(d => d.State).HasMaxLength(16);
        // The worker's claim query: due pending deliveries, oldest first.
        builder.HasIndex(d => new { d.State, d.NextAttemptAt });
        builder.HasIndex(d => new { d.WebhookId, d.Id });
        builder.HasIndex(d => d.LeaseOwner);
        builder.HasOne(d => d.Webhook).WithMany().HasForeignKey(d => d.WebhookId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(d => d.Event).WithMany().HasForeignKey(d => d.EventId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(d => d.Attempts).WithOne().HasForeignKey(a => a.DeliveryId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<WebhookAttempt> builder)
    {
        builder.ToTable("webhook_attempts");
        builder.Property(a => a.Error).HasMaxLength(1024);
        builder.Property(a => a.Detail).HasMaxLength(1024);
        builder.Property(a => a.Response).HasMaxLength(2048);
        builder.HasIndex(a => new { a.DeliveryId, a.Number }).IsUnique();
    }

    public void Configure(EntityTypeBuilder<Deployment> builder)
    {
        builder.ToTable("deployments");
        builder.Property(d => d.Environment).HasMaxLength(64);
        builder.Property(d => d.Endpoint).HasMaxLength(2048);
        builder.Property(d => d.Status).HasMaxLength(16);
        builder.Property(d => d.Comment).HasMaxLength(4096);
        builder.HasIndex(d => new { d.ModelId, d.Environment, d.Current });
        builder.HasIndex(d => new { d.VersionId, d.Current });
        builder.HasIndex(d => new { d.ModelId, d.Id });
        builder.HasOne(d => d.Model).WithMany().HasForeignKey(d => d.ModelId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(d => d.Version).WithMany(v => v.Deployments).HasForeignKey(d => d.VersionId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(d => d.Actor).WithMany().HasForeignKey(d => d.ActorId).OnDelete(DeleteBehavior.SetNull);
    }
}
