namespace Berth.Core.Data.Entities;

/// <summary>
/// A metric of a version as search, sorting, charts and stage gates see it (the <em>effective</em> value): the latest
/// evaluation's value when the metric was evaluated (<see cref="EvaluationId"/>), else the value given at push. The pushed
/// value stays in <see cref="Pushed"/> (null for a metric only an evaluation gave), so an evaluation never hides it.
/// </summary>
public sealed class VersionMetric
{
    public long VersionId { get; set; }
    public required string Name { get; set; }
    public double Value { get; set; }

    /// <summary>The value given when the version was pushed (or registered); null when only an evaluation gave the metric.</summary>
    public double? Pushed { get; set; }

    /// <summary>The evaluation whose value <see cref="Value"/> is; null while it is the pushed value.</summary>
    public long? EvaluationId { get; set; }
    public VersionEvaluation? Evaluation { get; set; }
}
