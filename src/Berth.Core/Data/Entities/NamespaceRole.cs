namespace Berth.Core.Data.Entities;

/// <summary>Roles in a namespace, each including the ones before it.</summary>
public enum NamespaceRole
{
    /// <summary>See and pull.</summary>
    Reader = 1,

    /// <summary>Push, edit metadata, tag, move unprotected aliases, request transitions.</summary>
    Writer = 2,

    /// <summary>Approve or reject requests (of others).</summary>
    Approver = 3,

    /// <summary>Members, policies, protected aliases, deletions.</summary>
    Admin = 4,
}
