namespace Berth.Server.Api.Auth;

/// <summary>Endpoint metadata: only server administrators (with an admin-scoped token) may call it.</summary>
public sealed class RequiredServerAdmin
{
    public static RequiredServerAdmin Instance { get; } = new();
}
