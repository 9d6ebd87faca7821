namespace Berth.Core.Data.Entities;

/// <summary>
/// Metrics measured on a ready version after its push (an evaluation job): who, when, on which dataset, by which run.
/// The version's <see cref="VersionMetric"/> rows then hold the latest evaluated value of each of these metrics, and keep
/// the pushed one beside it (<see cref="VersionMetric.Pushed"/>).
/// </summary>
public sealed class VersionEvaluation
{
    public long Id { get; set; }
    public long VersionId { get; set; }
    public ModelVersion Version { get; set; } = null!;

    /// <summary>What it was evaluated on: a name (<c>holdout-2026-11</c>) or a URI.</summary>
    public string? Dataset { get; set; }

    /// <summary>The public id of the run that evaluated it (a run of the same model).</summary>
    public string? RunId { get; set; }

    public string? Note { get; set; }
    public long CreatedById { get; set; }
    public User CreatedBy { get; set; } = null!;
    public DateTime CreatedAt { get; set; }
    public List<VersionEvaluationMetric> Metrics { get; set; } = [];
}

/// <summary>One metric of an evaluation, as measured (the history; the version's effective value is in <see cref="VersionMetric"/>).</summary>
public sealed class VersionEvaluationMetric
{
    public long EvaluationId { get; set; }
    public required string Name { get; set; }
    public double Value { get; set; }
}
