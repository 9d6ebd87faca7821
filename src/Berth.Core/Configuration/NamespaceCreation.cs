namespace Berth.Core.Configuration;

/// <summary>Who may create namespaces (explicitly, or by pushing into a new one).</summary>
public enum NamespaceCreation
{
    /// <summary>Any signed-in user; the creator becomes the namespace's admin.</summary>
    Users,

    /// <summary>Only server administrators.</summary>
    Admins,
}
