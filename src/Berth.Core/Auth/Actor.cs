namespace Berth.Core.Auth;

/// <summary>Who is making a request: a user through one of their tokens or a session, nobody (anonymous), or Berth itself (system).</summary>
public sealed record Actor(long UserId, string Name, bool IsAdmin, long? TokenId, TokenScopes Scopes)
{
    public static Actor Anonymous { get; } = new(0, "anonymous", false, null, TokenScopes.Read);

    /// <summary>Background work of the server (expiring uploads, failing abandoned pushes).</summary>
    public static Actor System { get; } = new(-1, "system", true, null, TokenScopes.All);

    public bool IsAnonymous => UserId == 0;

    public bool IsSystem => UserId < 0;

    /// <summary>A real user (neither anonymous nor the system).</summary>
    public bool IsUser => UserId > 0;
}
