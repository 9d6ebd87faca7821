namespace Berth.Core.Auth;

/// <summary>Who is making a request: a user through one of their tokens, or nobody (anonymous).</summary>
public sealed record Actor(long UserId, string Name, bool IsAdmin, long? TokenId, TokenScopes Scopes)
{
    public static Actor Anonymous { get; } = new(0, "anonymous", false, null, TokenScopes.Read);

    public bool IsAnonymous => UserId == 0;
}
