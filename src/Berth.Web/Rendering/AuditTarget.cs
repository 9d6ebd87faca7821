using System.Globalization;
using System.Text.RegularExpressions;

namespace Berth.Web.Rendering;

/// <summary>
/// What an audit entry's target names, when it is a namespace, a model or a version (<c>namespace acme</c>,
/// <c>acme/fraud</c>, <c>acme/fraud:3</c>, <c>acme/fraud alias champion</c>, <c>model acme/fraud stage production</c>):
/// the audit page links those that still exist. Other targets (<c>request #12</c>, <c>user alice</c>, a digest) are text.
/// </summary>
public sealed partial record AuditTarget(string Namespace, string? Model, int? Version)
{
    public static AuditTarget? Parse(string? target)
    {
        if (string.IsNullOrEmpty(target))
        {
            return null;
        }

        if (NamespacePattern().Match(target) is { Success: true } n)
        {
            return new AuditTarget(n.Groups["ns"].Value, null, null);
        }

        if (ModelPattern().Match(target) is { Success: true } m)
        {
            int? version = m.Groups["number"].Success && int.TryParse(m.Groups["number"].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture, out var number)
                ? number
                : null;
            return new AuditTarget(m.Groups["ns"].Value, m.Groups["model"].Value, version);
        }

        return null;
    }

    [GeneratedRegex(@"^namespace (?<ns>[^\s/]+)(?: stage \S+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex NamespacePattern();

    [GeneratedRegex(@"^(?:model )?(?<ns>[^\s/:]+)/(?<model>[^\s/:]+)(?::(?<number>[0-9]{1,9}))?(?: (?:alias|stage) \S+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex ModelPattern();
}
