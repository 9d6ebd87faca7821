namespace Berth.Core.Auth;

/// <summary>The kinds of access an operation needs, from least to most.</summary>
public enum Permission
{
    /// <summary>See and pull.</summary>
    Read,

    /// <summary>Push, edit metadata, tag, move aliases, change stages.</summary>
    Write,

    /// <summary>Delete, manage tokens of others, configure the namespace.</summary>
    Admin,
}
