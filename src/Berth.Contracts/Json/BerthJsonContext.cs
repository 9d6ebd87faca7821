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
public sealed partial class BerthJsonContext : JsonSerializerContext;
