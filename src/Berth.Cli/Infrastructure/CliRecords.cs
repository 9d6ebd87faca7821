using Berth.Contracts.Dtos;

namespace Berth.Cli.Infrastructure;

/// <summary>
/// The result of <c>berth push --json</c>: the ready version and how much had to be uploaded. When the content
/// was already a ready version (<c>unchanged</c>), <c>version</c> is that version, <c>aliases</c> says what moving
/// each requested alias did and <c>ignored</c> names the options that were not used; <c>sameContentAs</c> names the
/// version with the same content whenever there is one.
/// </summary>
internal sealed record PushOutput(
    VersionInfo Version,
    int FilesTotal,
    long BytesTotal,
    int FilesUploaded,
    long BytesUploaded,
    int FilesPresent,
    long BytesPresent,
    double ElapsedSeconds,
    bool Unchanged,
    string? SameContentAs,
    IReadOnlyList<PushAliasOutput> Aliases,
    IReadOnlyList<string> Ignored);

/// <summary>
/// The result of <c>berth run files &lt;run&gt; &lt;path&gt; --json</c>: the run's files afterwards and how much had to be
/// uploaded (the rest the server had).
/// </summary>
internal sealed record RunFilesOutput(
    string Run,
    IReadOnlyList<RunFileInfo> Files,
    int FilesTotal,
    long BytesTotal,
    int FilesUploaded,
    long BytesUploaded,
    double ElapsedSeconds);

/// <summary>What moving an alias did in an unchanged push: <c>applied</c>, <c>unchanged</c> or <c>requested</c> (with the request's id).</summary>
internal sealed record PushAliasOutput(string Alias, string Outcome, long? RequestId);

/// <summary>
/// The result of <c>berth pull --json</c>: the version, what was written (bytes downloaded now and resumed from
/// partial downloads), kept, removed (<c>--clean</c>), and warnings (dangerous paths, discarded partial downloads).
/// </summary>
internal sealed record PullOutput(
    VersionInfo Version,
    string Directory,
    int FilesWritten,
    long BytesWritten,
    long BytesDownloaded,
    long BytesResumed,
    int FilesKept,
    IReadOnlyList<string> Removed,
    IReadOnlyList<PullWarningOutput> Warnings,
    double ElapsedSeconds);

/// <summary>A warning of <c>berth pull</c>: its kind (<c>risky_path</c>, <c>partial_discarded</c>), the file, and the sentence printed on stderr.</summary>
internal sealed record PullWarningOutput(string Kind, string Path, string Message);

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

/// <summary>
/// <c>berth run compare --json</c>: the runs (as the API returns them), every param of any run with its value in each run
/// (null where a run lacks it) and whether the values differ, and each compared metric's final (last) value in each run
/// (null where a run lacks it; NaN and infinities as strings) with the indexes of the runs holding the best one.
/// </summary>
internal sealed record RunCompareOutput(IReadOnlyList<RunInfo> Runs, IReadOnlyList<RunCompareParam> Params, IReadOnlyList<RunCompareMetric> Metrics);

internal sealed record RunCompareParam(string Name, IReadOnlyList<string?> Values, bool Differs);

internal sealed record RunCompareMetric(
    string Name,
    bool LowerIsBetter,
    [property: System.Text.Json.Serialization.JsonNumberHandling(System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals)] IReadOnlyList<double?> Values,
    IReadOnlyList<int> Best);
