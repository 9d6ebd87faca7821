using Berth.Contracts.Dtos;

namespace Berth.Cli.Infrastructure;

/// <summary>The result of <c>berth push --json</c>: the ready version and how much had to be uploaded.</summary>
internal sealed record PushOutput(
    VersionInfo Version,
    int FilesTotal,
    long BytesTotal,
    int FilesUploaded,
    long BytesUploaded,
    int FilesPresent,
    long BytesPresent,
    double ElapsedSeconds);

/// <summary>The result of <c>berth pull --json</c>: the version and what was written or kept.</summary>
internal sealed record PullOutput(
    VersionInfo Version,
    string Directory,
    int FilesWritten,
    long BytesWritten,
    int FilesKept,
    double ElapsedSeconds);

/// <summary>The result of <c>berth alias rm --json</c> (the API answers 204 without a body).</summary>
internal sealed record AliasRemovedOutput(string Model, string Alias, bool Removed);

/// <summary>The result of <c>berth logout --json</c>.</summary>
internal sealed record LogoutOutput(string Config, bool LoggedOut, bool Revoked);

/// <summary>The result of <c>berth passwd --json</c> (the API answers 204 without a body).</summary>
internal sealed record PasswordChangedOutput(string User, bool Changed);

/// <summary>The result of <c>berth team rm --json</c>.</summary>
internal sealed record TeamRemovedOutput(string Team, bool Removed);

/// <summary>The result of <c>berth member rm --json</c>: the user or the team that lost its role.</summary>
internal sealed record MemberRemovedOutput(string Namespace, string? User, string? Team, bool Removed);

/// <summary>The result of <c>berth alias unprotect --json</c>.</summary>
internal sealed record AliasUnprotectedOutput(string Model, string Alias, bool Protected);

/// <summary>The result of <c>berth webhook remove --json</c> (the API answers 204 without a body).</summary>
internal sealed record WebhookRemovedOutput(long Webhook, bool Removed);
