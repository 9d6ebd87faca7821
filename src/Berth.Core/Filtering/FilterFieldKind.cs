namespace Berth.Core.Filtering;

/// <summary>What a filter condition looks at.</summary>
public enum FilterFieldKind
{
    /// <summary><c>name</c>: the model name (string).</summary>
    Name,

    /// <summary><c>namespace</c>: the namespace name (string).</summary>
    Namespace,

    /// <summary><c>version</c>: the per-model version number (whole number).</summary>
    Version,

    /// <summary><c>semver</c>: the normalised semantic version (string, may be missing).</summary>
    SemVer,

    /// <summary><c>stage</c>: the lifecycle stage (string, may be missing).</summary>
    Stage,

    /// <summary><c>alias</c>: the aliases pointing at the version (strings; a version may have none or several).</summary>
    Alias,

    /// <summary><c>created</c>: when the version was declared (ISO-8601 date/time, UTC unless an offset is given).</summary>
    Created,

    /// <summary><c>digest</c>: the manifest digest (string).</summary>
    Digest,

    /// <summary><c>size</c>: the total size of the version's files in bytes (whole number).</summary>
    Size,

    /// <summary><c>files</c>: how many files the version has (whole number).</summary>
    Files,

    /// <summary><c>metrics.&lt;key&gt;</c>: a metric (number, may be missing).</summary>
    Metric,

    /// <summary><c>params.&lt;key&gt;</c>: a param (string, may be missing).</summary>
    Param,

    /// <summary><c>tags.&lt;key&gt;</c>: a tag (string, may be missing).</summary>
    Tag,

    /// <summary><c>status</c>: a run's status (string; runs only).</summary>
    Status,

    /// <summary><c>metadata.&lt;field&gt;</c>: what Berth read inside the version (<see cref="InsightFields"/>; may be missing).</summary>
    Metadata,

    /// <summary><c>scan.&lt;field&gt;</c>: the version's pickle scan (<see cref="InsightFields"/>; missing until scanned).</summary>
    Scan,

    /// <summary><c>lineage.run</c>: the run a version came from (string, may be missing; versions only).</summary>
    LineageRun,

    /// <summary><c>lineage.gitCommit</c>: the git commit of a version's code (string, may be missing; versions only).</summary>
    LineageGitCommit,

    /// <summary><c>lineage.dataset</c>: a version's datasets, by URI or digest (a set of strings; versions only).</summary>
    LineageDataset,

    /// <summary><c>lineage.parent</c>: a version's parent versions, by reference (a set; versions only).</summary>
    LineageParent,
}
