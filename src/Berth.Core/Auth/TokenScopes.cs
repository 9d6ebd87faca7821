namespace Berth.Core.Auth;

/// <summary>What a token may do. Write implies read; admin implies both.</summary>
[Flags]
public enum TokenScopes
{
    None = 0,
    Read = 1,
    Write = 2,
    Admin = 4,
    All = Read | Write | Admin,
}
