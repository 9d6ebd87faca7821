using System.Text.Json.Serialization;

namespace Berth.Server.Oci;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(OciTokens.Payload))]
[JsonSerializable(typeof(OciResponses.ErrorEnvelope))]
[JsonSerializable(typeof(OciResponses.TokenResponse))]
[JsonSerializable(typeof(OciResponses.TagList))]
internal sealed partial class OciJsonContext : JsonSerializerContext;
