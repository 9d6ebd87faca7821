namespace Berth.Core.Configuration;

/// <summary>Who may create namespaces (explicitly, or by pushing into a new one); server administrators always may.</summary>
public enum NamespaceCreation
{
    /// <summary>Each user may create the one namespace named exactly as their user name (the default).</summary>
    Personal,

    /// <summary>Only server administrators.</summary>
    Admins,

    /// <summary>Any signed-in user; the creator becomes the namespace's admin.</summary>
    Users,
}
