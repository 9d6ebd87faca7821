using System.Text.Json;
using System.Text.Json.Serialization;
using Berth.Contracts.Dtos;

namespace Berth.Contracts.Json;

/// <summary>
/// Source-generated JSON metadata for every wire type, shared by the server and the SDK. Strict on
/// input: unknown fields, duplicate properties, missing required fields and nulls in non-nullable
/// places are errors, so a typo in a request never passes silently.
/// </summary>
[JsonSourceGenerationOptions(
    JsonSerializerDefaults.Web,
    UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    AllowDuplicateProperties = false,
    RespectNullableAnnotations = true,
    RespectRequiredConstructorParameters = true)]
[JsonSerializable(typeof(ProblemBody))]
[JsonSerializable(typeof(UserInfo))]
[JsonSerializable(typeof(TokenInfo))]
[JsonSerializable(typeof(Page<TokenInfo>))]
[JsonSerializable(typeof(WhoAmI))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(CreatedToken))]
[JsonSerializable(typeof(NamespaceInfo))]
[JsonSerializable(typeof(Page<NamespaceInfo>))]
[JsonSerializable(typeof(CreateNamespaceRequest))]
[JsonSerializable(typeof(ModelInfo))]
[JsonSerializable(typeof(Page<ModelInfo>))]
[JsonSerializable(typeof(CreateModelRequest))]
[JsonSerializable(typeof(UpdateModelRequest))]
[JsonSerializable(typeof(VersionInfo))]
[JsonSerializable(typeof(Page<VersionInfo>))]
[JsonSerializable(typeof(CreateVersionRequest))]
[JsonSerializable(typeof(CreateVersionResponse))]
[JsonSerializable(typeof(UpdateVersionRequest))]
[JsonSerializable(typeof(StageChangeRequest))]
[JsonSerializable(typeof(SetAliasRequest))]
[JsonSerializable(typeof(AliasInfo))]
[JsonSerializable(typeof(Page<AliasInfo>))]
[JsonSerializable(typeof(HistoryEntry))]
[JsonSerializable(typeof(Page<HistoryEntry>))]
[JsonSerializable(typeof(FileEntry))]
[JsonSerializable(typeof(Page<FileEntry>))]
[JsonSerializable(typeof(UploadInfo))]
[JsonSerializable(typeof(BlobInfo))]
[JsonSerializable(typeof(BlobCheckRequest))]
[JsonSerializable(typeof(BlobCheckResponse))]
[JsonSerializable(typeof(UserDetails))]
[JsonSerializable(typeof(Page<UserDetails>))]
[JsonSerializable(typeof(CreateUserRequest))]
[JsonSerializable(typeof(CreatedUser))]
[JsonSerializable(typeof(UpdateUserRequest))]
[JsonSerializable(typeof(SignInRequest))]
[JsonSerializable(typeof(SignInResponse))]
[JsonSerializable(typeof(ChangePasswordRequest))]
[JsonSerializable(typeof(TeamInfo))]
[JsonSerializable(typeof(Page<TeamInfo>))]
[JsonSerializable(typeof(CreateTeamRequest))]
[JsonSerializable(typeof(MemberInfo))]
[JsonSerializable(typeof(Page<MemberInfo>))]
[JsonSerializable(typeof(SetMemberRequest))]
[JsonSerializable(typeof(PolicyInfo))]
[JsonSerializable(typeof(SetStageRuleRequest))]
[JsonSerializable(typeof(ProtectedAliasInfo))]
[JsonSerializable(typeof(Page<ProtectedAliasInfo>))]
[JsonSerializable(typeof(ProtectAliasRequest))]
[JsonSerializable(typeof(RequestInfo))]
[JsonSerializable(typeof(Page<RequestInfo>))]
[JsonSerializable(typeof(ReviewRequest))]
[JsonSerializable(typeof(TransitionResult))]
[JsonSerializable(typeof(HoldersInfo))]
[JsonSerializable(typeof(AuditEntryInfo))]
[JsonSerializable(typeof(Page<AuditEntryInfo>))]
[JsonSerializable(typeof(AuditVerification))]
[JsonSerializable(typeof(GateResultInfo))]
[JsonSerializable(typeof(IReadOnlyList<ProtectedAliasInfo>))]
[JsonSerializable(typeof(EventInfo))]
[JsonSerializable(typeof(EventBatch))]
[JsonSerializable(typeof(WebhookInfo))]
[JsonSerializable(typeof(Page<WebhookInfo>))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(UpdateWebhookRequest))]
[JsonSerializable(typeof(DeliveryInfo))]
[JsonSerializable(typeof(Page<DeliveryInfo>))]
[JsonSerializable(typeof(RecordDeploymentRequest))]
[JsonSerializable(typeof(DeploymentInfo))]
[JsonSerializable(typeof(Page<DeploymentInfo>))]
public sealed partial class BerthJsonContext : JsonSerializerContext;
