namespace Berth.Client.Transfers;

/// <summary>
/// Paths that are dangerous to materialise: a tool acts on them by itself when it runs in (or is pointed at)
/// the folder, so a version that carries one can run code or change settings on the machine that pulls it.
/// A pull writes them like any other file but warns about each. The list (documented in docs/api.md):
/// <list type="bullet">
/// <item>version-control metadata at any depth: <c>.git</c>, <c>.hg</c>, <c>.svn</c>, <c>.bzr</c> (hooks and config run
/// commands) and <c>.gitmodules</c>;</item>
/// <item>at the root, folders that hold credentials or the configuration of a home directory: <c>.ssh/</c>,
/// <c>.gnupg/</c>, <c>.aws/</c>, <c>.azure/</c>, <c>.kube/</c>, <c>.docker/</c>, <c>.config/</c>, <c>.local/</c>;</item>
/// <item>at the root, shell start-up and tool configuration files: <c>.bashrc</c>, <c>.bash_profile</c>,
/// <c>.bash_login</c>, <c>.bash_logout</c>, <c>.profile</c>, <c>.zshrc</c>, <c>.zshenv</c>, <c>.zprofile</c>,
/// <c>.zlogin</c>, <c>.zlogout</c>, <c>.cshrc</c>, <c>.tcshrc</c>, <c>.inputrc</c>, <c>.envrc</c>, <c>.netrc</c>,
/// <c>.npmrc</c>, <c>.pypirc</c>, <c>.gitconfig</c>, <c>.git-credentials</c>;</item>
/// <item>at the root, CI pipelines and editor tasks that run when the folder is committed or opened:
/// <c>.github/workflows/</c>, <c>.gitea/workflows/</c>, <c>.forgejo/workflows/</c>, <c>.gitlab-ci.yml</c>,
/// <c>.circleci/</c>, <c>.buildkite/</c>, <c>.travis.yml</c>, <c>.vscode/</c>, <c>.devcontainer/</c>.</item>
/// </list>
/// Names are compared ignoring case (macOS and Windows file systems do).
/// </summary>
public static class RiskyPaths
{
    private static readonly HashSet<string> VersionControl = new(StringComparer.OrdinalIgnoreCase) { ".git", ".hg", ".svn", ".bzr", ".gitmodules" };

    private static readonly HashSet<string> HomeFolders = new(StringComparer.OrdinalIgnoreCase)
    {
        ".ssh", ".gnupg", ".aws", ".azure", ".kube", ".docker", ".config", ".local",
    };

    private static readonly HashSet<string> StartupFiles = new(StringComparer.OrdinalIgnoreCase)
    {
        ".bashrc", ".bash_profile", ".bash_login", ".bash_logout", ".profile", ".zshrc", ".zshenv", ".zprofile", ".zlogin", ".zlogout",
        ".cshrc", ".tcshrc", ".inputrc", ".envrc", ".netrc", ".npmrc", ".pypirc", ".gitconfig", ".git-credentials",
    };

    private static readonly string[] Automation =
    [
        ".github/workflows/", ".gitea/workflows/", ".forgejo/workflows/", ".gitlab-ci.yml", ".circleci/", ".buildkite/", ".travis.yml", ".vscode/", ".devcontainer/",
    ];

    /// <summary>Why <paramref name="path"/> (a version's '/'-separated file path) is dangerous to write, or null.</summary>
    public static string? Check(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var segments = path.Split('/');
        if (segments.FirstOrDefault(VersionControl.Contains) is { } vcs)
        {
            return $"version-control metadata ('{vcs}'): Git and similar tools run its hooks and follow its settings in this folder";
        }

        if (segments.Length > 1 && HomeFolders.Contains(segments[0]))
        {
            return $"'{segments[0]}/' holds credentials or settings when the folder is a home directory";
        }

        if (segments.Length == 1 && StartupFiles.Contains(segments[0]))
        {
            return $"'{segments[0]}' is read by shells or tools when the folder is a home directory";
        }

        if (Automation.FirstOrDefault(a => a.EndsWith('/') ? path.StartsWith(a, StringComparison.OrdinalIgnoreCase) : path.Equals(a, StringComparison.OrdinalIgnoreCase)) is { } automation)
        {
            return $"'{automation}' is run by CI or an editor when the folder is committed or opened";
        }

        return null;
    }
}
