using Markdig;
using Markdig.Renderers;
using Markdig.Renderers.Html;
using Markdig.Syntax;
using Markdig.Syntax.Inlines;

namespace Berth.Web.Rendering;

/// <summary>
/// Renders user-written markdown (model cards, descriptions) safely: CommonMark with tables, task lists, strikethrough
/// and autolinks; raw HTML is shown as text, never passed through; links keep only http, https, mailto and relative
/// targets (anything else, such as <c>javascript:</c> or <c>data:</c>, becomes plain text); images become links (no
/// request to another site, nothing the Content-Security-Policy would block); headings move one level down so that a
/// card's <c># Title</c> sits under the page's own heading.
/// </summary>
public sealed class MarkdownRenderer
{
    private static readonly string[] AllowedSchemes = ["http", "https", "mailto"];

    private readonly MarkdownPipeline _pipeline = new MarkdownPipelineBuilder()
        .DisableHtml()
        .UsePipeTables()
        .UseGridTables()
        .UseEmphasisExtras()
        .UseTaskLists()
        .UseAutoLinks()
        .UseListExtras()
        .UseFootnotes()
        .Build();

    /// <summary>The HTML of <paramref name="markdown"/>; only ever inserted through the <c>Markdown</c> component.</summary>
    public string ToHtml(string? markdown)
    {
        if (string.IsNullOrWhiteSpace(markdown))
        {
            return "";
        }

        var document = Markdig.Markdown.Parse(markdown, _pipeline);
        foreach (var heading in document.Descendants<HeadingBlock>())
        {
            heading.Level = Math.Min(6, heading.Level + 1);
        }

        foreach (var link in document.Descendants<LinkInline>().ToList())
        {
            link.IsImage = false;
            if (!IsSafeUrl(link.Url))
            {
                Unlink(link);
            }
            else if (IsAbsolute(link.Url))
            {
                link.GetAttributes().AddPropertyIfNotExist("rel", "nofollow noopener noreferrer");
            }
        }

        foreach (var autolink in document.Descendants<AutolinkInline>().ToList())
        {
            if (!IsSafeUrl(autolink.Url))
            {
                autolink.ReplaceBy(new LiteralInline(autolink.Url));
            }
        }

        using var writer = new StringWriter();
        var renderer = new HtmlRenderer(writer);
        _pipeline.Setup(renderer);
        renderer.Render(document);
        writer.Flush();
        return writer.ToString();
    }

    /// <summary>http, https, mailto, or a relative URL (no scheme); control characters and blanks before a scheme do not hide it.</summary>
    public static bool IsSafeUrl(string? url)
    {
        if (string.IsNullOrEmpty(url))
        {
            return true;
        }

        var cleaned = new string(url.Where(c => !char.IsControl(c) && !char.IsWhiteSpace(c)).ToArray());
        var colon = cleaned.IndexOf(':', StringComparison.Ordinal);
        if (colon < 0)
        {
            return true;
        }

        var end = cleaned.IndexOfAny(['/', '?', '#']);
        if (end >= 0 && end < colon)
        {
            // The colon is in the path, query or fragment of a relative URL.
            return true;
        }

        var scheme = cleaned[..colon];
        return AllowedSchemes.Any(s => s.Equals(scheme, StringComparison.OrdinalIgnoreCase));
    }

    private static bool IsAbsolute(string? url) => url is not null && (url.StartsWith("http:", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https:", StringComparison.OrdinalIgnoreCase) || url.StartsWith("//", StringComparison.Ordinal));

    /// <summary>Replaces a link by its text (the children stay, the link goes).</summary>
    private static void Unlink(LinkInline link)
    {
        var parent = link.Parent!;
        var children = link.ToList();
        Inline anchor = link;
        foreach (var child in children)
        {
            child.Remove();
            anchor.InsertAfter(child);
            anchor = child;
        }

        if (children.Count == 0 && link.Url is { } url)
        {
            link.InsertAfter(new LiteralInline(url));
        }

        link.Remove();
        _ = parent;
    }
}
