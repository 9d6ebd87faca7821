namespace Berth.Core.Filtering;

/// <summary>
/// The outcome of evaluating a gate against a version: whether it passed, the conditions responsible
/// when it did not (with the actual values), and every condition checked.
/// </summary>
public sealed record GateResult(bool Passed, string Expression, IReadOnlyList<GateClause> Failures, IReadOnlyList<GateClause> Checked)
{
    /// <summary>A one-line account, e.g. "gate passed: metrics.auc is 0.934 (>= 0.92)".</summary>
    public string Summary => Passed
        ? "gate passed: " + string.Join(", ", Checked.Select(c => $"{c.Clause} (actual {c.Actual})"))
        : "gate failed: " + string.Join("; ", Failures.Select(c => $"{c.Clause} is false (actual {c.Actual})"));
}
