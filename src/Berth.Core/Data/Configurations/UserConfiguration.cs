using Berth.Core.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Berth.Core.Data.Configurations;

internal sealed class UserConfiguration : IEntityTypeConfiguration<User>, IEntityTypeConfiguration<ApiToken>, IEntityTypeConfiguration<SignInThrottle>
{
    public void Configure(EntityTypeBuilder<User> builder)
    {
        builder.ToTable("users");
        builder.Property(u => u.Name).HasMaxLength(64);
        builder.Property(u => u.Email).HasMaxLength(320);
        builder.Property(u => u.DisplayName).HasMaxLength(200);
        builder.Property(u => u.PasswordHash).HasMaxLength(256);
        builder.Property(u => u.ExternalIssuer).HasMaxLength(512);
        builder.Property(u => u.ExternalSubject).HasMaxLength(256);
        builder.Property(u => u.Revision).IsConcurrencyToken();
        builder.HasIndex(u => u.Name).IsUnique();
        builder.HasIndex(u => new { u.ExternalIssuer, u.ExternalSubject }).IsUnique();
    }

    public void Configure(EntityTypeBuilder<ApiToken> builder)
    {
        builder.ToTable("api_tokens");
        builder.Property(t => t.Name).HasMaxLength(100);
        builder.Property(t => t.Prefix).HasMaxLength(16);
        builder.Property(t => t.Hash).HasMaxLength(64);
        builder.Property(t => t.Scopes).HasMaxLength(64);
        builder.HasIndex(t => t.Hash).IsUnique();
        builder.HasIndex(t => t.UserId);
        builder.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(t => t.Parent).WithMany().HasForeignKey(t => t.ParentId).OnDelete(DeleteBehavior.Cascade);
    }

    public void Configure(EntityTypeBuilder<SignInThrottle> builder)
    {
        builder.ToTable("sign_in_throttles");
        builder.HasKey(t => t.Key);
        builder.Property(t => t.Key).HasMaxLength(SignInThrottle.MaxKeyLength);
    }
}
