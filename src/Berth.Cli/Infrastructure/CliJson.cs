using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// JSON of the CLI: the config file and <c>--json</c> output. API records are written exactly as the
/// server sends them (camelCase, nulls included); lists are plain arrays.
/// </summary>
[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, WriteIndented = true)]
[JsonSerializable(typeof(CliConfig))]
[JsonSerializable(typeof(WhoAmI))]
[JsonSerializable(typeof(GcReport))]
[JsonSerializable(typeof(RetentionPolicyInfo))]
[JsonSerializable(typeof(QuotaInfo))]
[JsonSerializable(typeof(RetentionPreview))]
[JsonSerializable(typeof(FsckLine))]
[JsonSerializable(typeof(FsckReport))]
[JsonSerializable(typeof(Berth.Server.Backup.BackupResult))]
[JsonSerializable(typeof(Berth.Server.Backup.RestoreResult))]
[JsonSerializable(typeof(CreatedToken))]
[JsonSerializable(typeof(TokenInfo))]
[JsonSerializable(typeof(List<TokenInfo>))]
[JsonSerializable(typeof(List<NamespaceInfo>))]
[JsonSerializable(typeof(List<ModelInfo>))]
[JsonSerializable(typeof(RunInfo))]
[JsonSerializable(typeof(List<RunInfo>))]
[JsonSerializable(typeof(MetricBatchResult))]
[JsonSerializable(typeof(RunFilesOutput))]
[JsonSerializable(typeof(RunCompareOutput))]
[JsonSerializable(typeof(List<RunFileInfo>))]
[JsonSerializable(typeof(VersionInfo))]
[JsonSerializable(typeof(LocalScanReport))]
[JsonSerializable(typeof(VersionInsight))]
[JsonSerializable(typeof(ScanPolicyInfo))]
[JsonSerializable(typeof(RecomputeInsightResponse))]
[JsonSerializable(typeof(EvaluationInfo))]
[JsonSerializable(typeof(List<EvaluationInfo>))]
[JsonSerializable(typeof(List<VersionInfo>))]
[JsonSerializable(typeof(AliasInfo))]
[JsonSerializable(typeof(List<AliasInfo>))]
[JsonSerializable(typeof(List<HistoryEntry>))]
[JsonSerializable(typeof(TransitionResult))]
[JsonSerializable(typeof(PushOutput))]
[JsonSerializable(typeof(PullOutput))]
[JsonSerializable(typeof(AliasRemovedOutput))]
[JsonSerializable(typeof(LogoutOutput))]
[JsonSerializable(typeof(PasswordChangedOutput))]
[JsonSerializable(typeof(UserDetails))]
[JsonSerializable(typeof(List<UserDetails>))]
[JsonSerializable(typeof(CreatedUser))]
[JsonSerializable(typeof(TeamInfo))]
[JsonSerializable(typeof(List<TeamInfo>))]
[JsonSerializable(typeof(TeamRemovedOutput))]
[JsonSerializable(typeof(MemberInfo))]
[JsonSerializable(typeof(List<MemberInfo>))]
[JsonSerializable(typeof(MemberRemovedOutput))]
[JsonSerializable(typeof(PolicyInfo))]
[JsonSerializable(typeof(ProtectedAliasInfo))]
[JsonSerializable(typeof(AliasUnprotectedOutput))]
[JsonSerializable(typeof(RequestInfo))]
[JsonSerializable(typeof(List<RequestInfo>))]
[JsonSerializable(typeof(HoldersInfo))]
[JsonSerializable(typeof(List<AuditEntryInfo>))]
[JsonSerializable(typeof(AuditVerification))]
[JsonSerializable(typeof(EventInfo))]
[JsonSerializable(typeof(WebhookInfo))]
[JsonSerializable(typeof(List<WebhookInfo>))]
[JsonSerializable(typeof(WebhookRemovedOutput))]
[JsonSerializable(typeof(DeliveryInfo))]
[JsonSerializable(typeof(List<DeliveryInfo>))]
[JsonSerializable(typeof(DeploymentInfo))]
[JsonSerializable(typeof(List<DeploymentInfo>))]
internal sealed partial class CliJson : JsonSerializerContext
{
    /// <summary>The context used for reading and writing: readable output (no \u escapes for '+', '&lt;' or non-ASCII text).</summary>
    public static CliJson Context => Relaxed.Instance;

    /// <summary>The same, without indentation: one JSON value per line (JSON lines, as <c>berth events --json</c> writes).</summary>
    public static CliJson Lines => Relaxed.Compact;

    /// <summary>A holder class, so that <see cref="Default"/> (in the generated part) is initialised first.</summary>
    private static class Relaxed
    {
        public static readonly CliJson Instance = new(new JsonSerializerOptions(Default.Options)
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        });

        public static readonly CliJson Compact = new(new JsonSerializerOptions(Default.Options)
        {
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            WriteIndented = false,
        });
    }
}
