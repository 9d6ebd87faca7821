namespace Berth.Contracts.Naming;

/// <summary>Which way a metric improves, when nobody said: the web UI's comparisons and <c>berth run compare</c> mark the best value by it.</summary>
public static class MetricDirection
{
    private static readonly string[] LowerIsBetterWords = ["loss", "error", "err", "rmse", "mse", "mae", "mape", "perplexity", "latency", "wer", "cer", "fpr", "fnr", "time", "duration", "size"];

    /// <summary>
    /// Whether a smaller value of a metric is better: names made of words such as loss, error, rmse, latency or perplexity
    /// (<c>val_loss</c>, <c>p99-latency</c>, <c>eval.mae</c>); higher is better otherwise.
    /// </summary>
    public static bool LowerIsBetterByDefault(string metric)
    {
        ArgumentNullException.ThrowIfNull(metric);
        var words = metric.ToLowerInvariant().Split(['_', '-', '.', '/', ' ', ':'], StringSplitOptions.RemoveEmptyEntries);
        return words.Any(w => LowerIsBetterWords.Contains(w, StringComparer.Ordinal));
    }
}
