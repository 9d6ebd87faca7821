namespace Berth.Core.Auth;

/// <summary>The kinds of access an operation needs, from least to most; each namespace role grants a prefix of them.</summary>
public enum Permission
{
    /// <summary>See and pull (reader).</summary>
    Read,

    /// <summary>Push, edit metadata, tag, move unprotected aliases, change unprotected stages, request transitions (writer).</summary>
    Write,

    /// <summary>Approve or reject transition requests of others (approver).</summary>
    Approve,

    /// <summary>Members, policies, protected aliases, deletions (namespace admin).</summary>
    Admin,
}
