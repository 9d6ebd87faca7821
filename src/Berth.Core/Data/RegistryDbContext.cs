using Berth.Core.Data.Entities;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Berth.Core.Data;

/// <summary>
/// The metadata store. One model for every provider; each provider project (SQLite, PostgreSQL) keeps
/// its own migrations. Tables and columns use snake_case so the schema reads naturally in any SQL shell.
/// </summary>
public class RegistryDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    private IDatabaseErrors? _errors;
    private ISqlDialect? _dialect;

    /// <summary>How this provider reports unique violations and outages (registered by the provider project).</summary>
    public IDatabaseErrors Errors => _errors ??= ProviderService<IDatabaseErrors>();

    /// <summary>The provider's SQL where EF Core has no API (registered by the provider project).</summary>
    public ISqlDialect Dialect => _dialect ??= ProviderService<ISqlDialect>();

    /// <summary>Set by the outbox when this unit of work added events; cleared when its transaction ends.</summary>
    internal bool EventsToAnnounce { get; set; }

    /// <summary>Deliveries this unit of work queued, leased to this server: handed to its worker after the commit.</summary>
    internal List<WebhookDelivery> DeliveriesToHandOver { get; } = [];

    /// <summary>A service of the application (not of EF's internal provider), if registered.</summary>
    internal T? GetApplicationService<T>() where T : class =>
        this.GetService<IDbContextOptions>().FindExtension<CoreOptionsExtension>()?.ApplicationServiceProvider?.GetService(typeof(T)) as T;

    public DbSet<User> Users => Set<User>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<SignInThrottle> SignInThrottles => Set<SignInThrottle>();
    public DbSet<RegistryNamespace> Namespaces => Set<RegistryNamespace>();
    public DbSet<RegisteredModel> Models => Set<RegisteredModel>();
    public DbSet<ModelTag> ModelTags => Set<ModelTag>();
    public DbSet<ModelVersion> Versions => Set<ModelVersion>();
    public DbSet<VersionFile> VersionFiles => Set<VersionFile>();
    public DbSet<VersionMetric> VersionMetrics => Set<VersionMetric>();
    public DbSet<VersionParam> VersionParams => Set<VersionParam>();
    public DbSet<VersionTag> VersionTags => Set<VersionTag>();
    public DbSet<VersionDataset> VersionDatasets => Set<VersionDataset>();
    public DbSet<VersionParent> VersionParents => Set<VersionParent>();
    public DbSet<VersionEvaluation> VersionEvaluations => Set<VersionEvaluation>();
    public DbSet<VersionEvaluationMetric> VersionEvaluationMetrics => Set<VersionEvaluationMetric>();
    public DbSet<ModelAlias> Aliases => Set<ModelAlias>();
    public DbSet<ModelHistoryEntry> History => Set<ModelHistoryEntry>();
    public DbSet<StoredBlob> Blobs => Set<StoredBlob>();
    public DbSet<UploadSession> UploadSessions => Set<UploadSession>();
    public DbSet<IdempotencyRecord> IdempotencyRecords => Set<IdempotencyRecord>();
    public DbSet<Lease> Leases => Set<Lease>();
    public DbSet<ScrubRun> ScrubRuns => Set<ScrubRun>();
    public DbSet<RetentionPolicy> RetentionPolicies => Set<RetentionPolicy>();
    public DbSet<Team> Teams => Set<Team>();
    public DbSet<TeamMember> TeamMembers => Set<TeamMember>();
    public DbSet<NamespaceMember> NamespaceMembers => Set<NamespaceMember>();
    public DbSet<StageRule> StageRules => Set<StageRule>();
    public DbSet<ProtectedAlias> ProtectedAliases => Set<ProtectedAlias>();
    public DbSet<TransitionRequest> Requests => Set<TransitionRequest>();
    public DbSet<RequestReview> RequestReviews => Set<RequestReview>();
    public DbSet<AuditEntry> AuditLog => Set<AuditEntry>();
    public DbSet<AuditHead> AuditHeads => Set<AuditHead>();
    public DbSet<EventRecord> Events => Set<EventRecord>();

    public DbSet<EventHead> EventHeads => Set<EventHead>();
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<WebhookAttempt> WebhookAttempts => Set<WebhookAttempt>();
    public DbSet<Deployment> Deployments => Set<Deployment>();
    public DbSet<Run> Runs => Set<Run>();
    public DbSet<RunParam> RunParams => Set<RunParam>();
    public DbSet<RunTag> RunTags => Set<RunTag>();
    public DbSet<RunMetric> RunMetrics => Set<RunMetric>();
    public DbSet<RunMetricChunk> RunMetricChunks => Set<RunMetricChunk>();
    public DbSet<RunBatch> RunBatches => Set<RunBatch>();
    public DbSet<RunFile> RunFiles => Set<RunFile>();
    public DbSet<ModelUpload> ModelUploads => Set<ModelUpload>();
    public DbSet<VersionInsightRecord> VersionInsights => Set<VersionInsightRecord>();
    public DbSet<VersionFileInsight> VersionFileInsights => Set<VersionFileInsight>();
    public DbSet<OciManifest> OciManifests => Set<OciManifest>();
    public DbSet<OciBlobRef> OciBlobRefs => Set<OciBlobRef>();
    public DbSet<OciTag> OciTags => Set<OciTag>();

    /// <summary>ASP.NET Core's data-protection key ring, shared by every replica (not kept in a data folder).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    private T ProviderService<T>() where T : class =>
        GetApplicationService<T>()
        ?? throw new InvalidOperationException($"No {typeof(T).Name} is registered: add the metadata store with its provider's AddXxxRegistry().");

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<VersionState>().HaveConversion<LowercaseEnumConverter<VersionState>>().HaveMaxLength(16);
        configurationBuilder.Properties<HistoryKind>().HaveConversion<LowercaseEnumConverter<HistoryKind>>().HaveMaxLength(16);
        configurationBuilder.Properties<NamespaceRole>().HaveConversion<LowercaseEnumConverter<NamespaceRole>>().HaveMaxLength(16);
        configurationBuilder.Properties<RequestKind>().HaveConversion<LowercaseEnumConverter<RequestKind>>().HaveMaxLength(16);
        configurationBuilder.Properties<RequestState>().HaveConversion<LowercaseEnumConverter<RequestState>>().HaveMaxLength(16);
        configurationBuilder.Properties<ReviewDecision>().HaveConversion<LowercaseEnumConverter<ReviewDecision>>().HaveMaxLength(16);
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(RegistryDbContext).Assembly);
        SnakeCaseNames.Apply(modelBuilder);
    }
}
