using System.CommandLine;
using Berth.Cli.Infrastructure;
using Berth.Contracts.Dtos;

namespace Berth.Cli.Commands;

/// <summary><c>berth search 'metrics.auc &gt; 0.9 and tags.team = "risk"' --sort -metrics.auc --limit 10</c>.</summary>
internal static class SearchCommand
{
    public static Command Create(CliApp app)
    {
        var filter = new Argument<string?>("filter")
        {
            Description = "Filter expression, e.g. 'metrics.auc > 0.9 and tags.team = \"risk\"' (none: every ready version).",
            Arity = ArgumentArity.ZeroOrOne,
        };
        var sort = new Option<string>("--sort", "-s") { Description = "Sort key, '-' for descending, e.g. -metrics.auc or created." };
        var limit = new Option<int?>("--limit", "-l") { Description = "At most this many results." };
        limit.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int?>() is <= 0)
            {
                result.AddError("--limit must be a positive number.");
            }
        });
        var command = new Command("search", "Search ready versions across models by metrics, params, tags and more.") { filter, sort, limit };
        app.SetAction(command, async (context, parse, cancellationToken) =>
        {
            var expression = parse.GetValue(filter) is { } f && !string.IsNullOrWhiteSpace(f) ? f : null;
            var versions = await SearchAsync(context, expression, parse.GetValue(sort), parse.GetValue(limit), cancellationToken);
            if (context.Output.Json)
            {
                context.Output.WriteJson(versions, CliJson.Context.ListVersionInfo);
            }
            else if (versions.Count == 0)
            {
                context.Output.Line("No versions match.");
            }
            else
            {
                ListCommand.VersionTable(context.Output, versions, showState: false, fullReference: true);
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static async Task<List<VersionInfo>> SearchAsync(CliContext context, string? filter, string? sort, int? limit, CancellationToken cancellationToken)
    {
        if (limit is not { } max)
        {
            return await context.Client.SearchAsync(filter, sort, cancellationToken).ToListAsync(cancellationToken);
        }

        var results = new List<VersionInfo>();
        string? cursor = null;
        do
        {
            var page = await context.Client.SearchPageAsync(filter, sort, max - results.Count, cursor, cancellationToken);
            results.AddRange(page.Items.Take(max - results.Count));
            cursor = page.NextCursor;
        }
        while (cursor is not null && results.Count < max);

        return results;
    }
}
