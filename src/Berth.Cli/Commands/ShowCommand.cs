using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary>
/// <c>berth show acme/fraud:candidate</c>: everything about one version. Asked for by digest
/// (<c>acme/fraud@sha256:…</c>), it also names the other versions with the same content.
/// </summary>
internal static class ShowCommand
{
    public static Command Create(CliApp app)
    {
        var reference = new Argument<string>("reference")
        {
            Description = "namespace/model[:selector]: a number (3), semantic version (1.2.0, v1.2.0), alias, stage or latest; or namespace/model@sha256:<hex>. No selector = latest.",
        };
        var files = new Option<bool>("--files", "-f") { Description = "Also list the files (path, size, digest)." };
        var command = new Command("show", "Show a version: state, stage, aliases, metrics (with their evaluations), params, tags, lineage (with its children), deployments, files.") { reference, files };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var version = await context.Client.GetVersionAsync(context.Reference(parse.GetValue(reference)!), parse.GetValue(files), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(version, CliJson.Context.VersionInfo);
            }
            else
            {
                Write(context.Output, version);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static void Write(Output output, VersionInfo v)
    {
        output.Title(v.Reference + (v.SemVer is { } s ? $" ({s})" : ""));
        output.Fields(
        [
            ("state", v.State),
            ("semver", v.SemVer ?? "-"),
            ("stage", v.Stage is { } stage ? $"{stage}{(v.StageChangedAt is { } at ? $" (since {TextFormat.Time(at)})" : "")}" : "-"),
            ("aliases", v.Aliases.Count > 0 ? TextFormat.List(v.Aliases) : "-"),
            ("digest", v.ManifestDigest),
            ("same content", v.SameContent is { Count: > 0 } same
                ? $"also in {TextFormat.List(same.Select(n => $"{v.Namespace}/{v.Model}:{n}"))} ({v.Reference} is the oldest: @sha256 picks it)"
                : null),
            ("size", $"{TextFormat.Bytes(v.TotalSize)} in {TextFormat.Count(v.FileCount, "file")}"),
            ("created", $"{TextFormat.Time(v.CreatedAt)} by {v.CreatedBy}"),
            ("ready", v.ReadyAt is { } ready ? TextFormat.Time(ready) : null),
            ("description", string.IsNullOrWhiteSpace(v.Description) ? null : v.Description.Trim()),
            ("quarantined", v.QuarantinedFiles is { Count: > 0 } bad
                ? $"{TextFormat.List(bad)}: stored bytes missing or corrupt, downloads fail (blob_corrupt) until restored"
                : null),
        ], indent: 2);

        // Effective values (search and gates use them); an evaluated one says where it comes from and what the push said.
        Section(output, "metrics", v.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => (m.Key, (string?)(
            v.EvaluatedMetrics?.GetValueOrDefault(m.Key) is { } e
                ? $"{TextFormat.Number(m.Value)}  (evaluation {e.Evaluation}{(e.Dataset is null ? "" : $" on {e.Dataset}")} by {e.CreatedBy} {TextFormat.Time(e.CreatedAt)}"
                  + $"{(e.Run is null ? "" : $", run {e.Run}")}; {(e.Pushed is { } pushed ? $"pushed {TextFormat.Number(pushed)}" : "not pushed")})"
                : TextFormat.Number(m.Value)))));
        Section(output, "params", v.Params.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => (p.Key, (string?)p.Value)));
        Section(output, "tags", v.Tags.OrderBy(t => t.Key, StringComparer.Ordinal).Select(t => (t.Key, (string?)t.Value)));

        var lineage = v.Lineage;
        Section(output, "lineage",
        [
            ("run", lineage.RunId),
            ("git repository", lineage.GitRepository),
            ("git commit", lineage.GitCommit),
            ("datasets", lineage.Datasets is { Count: > 0 } ds ? TextFormat.List(ds.Select(d => d.Digest is null ? d.Uri : $"{d.Uri}@{d.Digest}")) : null),
            ("parents", lineage.Parents is { Count: > 0 } ps ? TextFormat.List(ps) : null),
            ("children", v.Children is { Count: > 0 } cs ? TextFormat.List(cs) + (cs.Count >= VersionInfo.MaxChildren ? $" (the first {VersionInfo.MaxChildren}; berth search \"lineage.parent = '{v.Reference}'\" finds all)" : "") : null),
        ]);

        if (v.Insight is { } insight)
        {
            // What the server read inside the files (berth insight show: every file).
            Section(output, "insight",
            [
                ("state", insight.State == InsightStates.Failed ? $"failed: {insight.Reason}" : insight.State),
                ("scan", insight.Scan is { } scan ? InsightText.Scan(scan) : null),
                .. InsightText.MetadataFields(insight.Metadata),
            ]);
            if (insight.Scan is { Verdict: ScanVerdicts.Dangerous })
            {
                Output.Warning($"{v.Reference} has a file that runs code when it is loaded: 'berth insight show {v.Reference}' names it.");
            }
        }

        if (v.Deployments is { Count: > 0 } deployments)
        {
            output.Line("deployments:");
            output.Table(
                ["ENVIRONMENT", "STATUS", "ENDPOINT", "SINCE"],
                deployments.Select(d => (IReadOnlyList<string>)[d.Environment, d.Status, d.Endpoint ?? "-", TextFormat.Time(d.Since)]),
                indent: 2);
        }

        if (v.Files is { } files)
        {
            output.Line("files:");
            if (files.Count == 0)
            {
                output.Line("  (none)");
            }
            else
            {
                output.Table(["PATH", "SIZE", "DIGEST"], files.Select(f => (IReadOnlyList<string>)[f.Path, TextFormat.Bytes(f.Size), f.Digest]), indent: 2);
            }
        }
    }

    private static void Section(Output output, string title, IEnumerable<(string Key, string? Value)> fields)
    {
        var list = fields.Where(f => f.Value is not null).ToList();
        if (list.Count == 0)
        {
            return;
        }

        output.Line($"{title}:");
        output.Fields(list, indent: 2);
    }
}
