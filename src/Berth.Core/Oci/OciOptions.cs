using System.ComponentModel.DataAnnotations;

namespace Berth.Core.Oci;

/// <summary>The OCI distribution endpoints (section <c>Oci</c>; <c>BERTH_Oci__…</c>).</summary>
public sealed class OciOptions
{
    public const string SectionName = "Oci";

    /// <summary>The largest manifest a client may push (the distribution spec asks for at least 4 MiB).</summary>
    [Range(4 * 1024 * 1024, 64 * 1024 * 1024)]
    public int MaxManifestSize { get; set; } = 4 * 1024 * 1024;

    /// <summary>How long a token from <c>/v2/token</c> lives.</summary>
    [Range(typeof(TimeSpan), "00:00:30", "1.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// A tar file whose contents every model car image gets below its /models layer (e.g. a static shell, which KServe's
    /// model car container runs). Unset: the image holds /models only. Read when a version's model car is first built.
    /// </summary>
    public string? ModelcarBaseLayer { get; set; }

    /// <summary>
    /// Whether each ready version's ModelPack manifest is built in the background soon after it becomes ready (default),
    /// so it can be pulled by digest at once; off, a version gets its OCI form when it is first asked for by a tag.
    /// </summary>
    public bool BuildInBackground { get; set; } = true;

    /// <summary>The platform written into model car image configs (the files themselves fit any).</summary>
    [RegularExpression("^[a-z0-9]+$")]
    public string ModelcarArchitecture { get; set; } = "amd64";
}
