using System.Text.Json.Serialization;

namespace Berth.Cli.Infrastructure;

/// <summary>What <c>berth login</c> saves: the server, the API token and the default namespace.</summary>
internal sealed record CliConfig(string? Server = null, string? Token = null, string? Namespace = null)
{
    [JsonIgnore]
    public bool IsEmpty => Server is null && Token is null && Namespace is null;
}
