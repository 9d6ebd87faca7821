using Berth.Contracts.Dtos;
using Berth.Contracts.Naming;

namespace Berth.Client;

public sealed partial class BerthClient
{
    /// <summary>
    /// What the server read inside a version: the state of the reading (pending, done, failed with a reason), the metadata
    /// (framework, format, parameters, precision, quantization, signature, requirements), the pickle scan, and each file's details.
    /// </summary>
    public Task<VersionInsight> GetVersionInsightAsync(ModelReference reference, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, VersionPath(reference) + "/insight", null, Json.VersionInsight, cancellationToken);

    /// <summary>A namespace's pickle-scan policy: off, warn (the default) or block.</summary>
    public Task<ScanPolicyInfo> GetScanPolicyAsync(string ns, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Get, $"{ApiPrefix}namespaces/{Segment(ns)}/scan-policy", null, Json.ScanPolicyInfo, cancellationToken);

    /// <summary>Sets a namespace's pickle-scan policy (its admins): <see cref="ScanPolicies.Off"/>, <see cref="ScanPolicies.Warn"/> or <see cref="ScanPolicies.Block"/>.</summary>
    public Task<ScanPolicyInfo> SetScanPolicyAsync(string ns, string policy, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Put, $"{ApiPrefix}namespaces/{Segment(ns)}/scan-policy", new SetScanPolicyRequest(policy), Json.ScanPolicyInfo, cancellationToken);

    /// <summary>Has the server read ready versions again (server administrators): all of them, or a namespace's, a model's, one version's.</summary>
    public Task<RecomputeInsightResponse> RecomputeInsightAsync(RecomputeInsightRequest request, CancellationToken cancellationToken = default) =>
        SendAsync(HttpMethod.Post, $"{ApiPrefix}insight/recompute", request, Json.RecomputeInsightResponse, cancellationToken);
}
