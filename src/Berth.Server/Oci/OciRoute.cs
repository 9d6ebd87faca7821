namespace Berth.Server.Oci;

internal enum OciRouteKind
{
    Base,
    Token,
    Manifest,
    Blob,
    UploadStart,
    Upload,
    Tags,
    Referrers,
}

/// <summary>
/// A path under <c>/v2/</c>, parsed from the right as registries do (a repository name has slashes of its own):
/// <c>&lt;name&gt;/manifests/&lt;reference&gt;</c>, <c>&lt;name&gt;/blobs/&lt;digest&gt;</c>,
/// <c>&lt;name&gt;/blobs/uploads/[&lt;id&gt;]</c>, <c>&lt;name&gt;/tags/list</c>, <c>&lt;name&gt;/referrers/&lt;digest&gt;</c>.
/// </summary>
internal sealed record OciRoute(OciRouteKind Kind, string Name, string Argument)
{
    public static OciRoute? Parse(string rest)
    {
        if (rest.Length == 0)
        {
            return new OciRoute(OciRouteKind.Base, "", "");
        }

        if (rest is "token")
        {
            return new OciRoute(OciRouteKind.Token, "", "");
        }

        var segments = rest.Split('/');
        var n = segments.Length;
        if (n >= 3 && segments[n - 2] == "uploads" && segments[n - 3] == "blobs" && n >= 4)
        {
            return segments[n - 1].Length == 0
                ? new OciRoute(OciRouteKind.UploadStart, Join(segments, n - 3), "")
                : new OciRoute(OciRouteKind.Upload, Join(segments, n - 3), segments[n - 1]);
        }

        if (n >= 3 && segments[n - 1] == "uploads" && segments[n - 2] == "blobs")
        {
            return new OciRoute(OciRouteKind.UploadStart, Join(segments, n - 2), "");
        }

        if (n >= 3 && segments[n - 2] is "manifests" or "blobs" or "referrers" && segments[n - 1].Length > 0)
        {
            var kind = segments[n - 2] switch
            {
                "manifests" => OciRouteKind.Manifest,
                "blobs" => OciRouteKind.Blob,
                _ => OciRouteKind.Referrers,
            };
            return new OciRoute(kind, Join(segments, n - 2), segments[n - 1]);
        }

        if (n >= 3 && segments[n - 1] == "list" && segments[n - 2] == "tags")
        {
            return new OciRoute(OciRouteKind.Tags, Join(segments, n - 2), "");
        }

        return null;
    }

    private static string Join(string[] segments, int count) => string.Join('/', segments, 0, count);
}
