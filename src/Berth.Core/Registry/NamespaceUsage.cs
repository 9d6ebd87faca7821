using System.Globalization;
using Berth.Contracts.Errors;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Errors;
using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Registry;

/// <summary>
/// The usage counters of namespaces (<see cref="RegistryNamespace.UsedBytes"/>, <see cref="RegistryNamespace.VersionCount"/>)
/// and their quotas. Usage is logical: the declared sizes of the files of the namespace's pending and ready versions, in
/// models that are not deleted. Every transaction that changes it (declaring a version; deleting a version or a model;
/// failing an abandoned pending version) first takes the namespace's row lock with <see cref="LockAsync"/>, then reads the
/// states it changes, then moves the counters with <see cref="AddAsync"/>: so concurrent pushes cannot both fit under a
/// quota that only one fits under, and a version is never subtracted twice. Garbage collection's purge only touches
/// versions that no longer count (deleted, failed, or in deleted models), so it never changes usage.
/// </summary>
public sealed class NamespaceUsage(RegistryDbContext db)
{
    /// <summary>Locks the namespace's row until the transaction ends, and reads its usage and quotas.</summary>
    public Task<Usage> LockAsync(long namespaceId, CancellationToken cancellationToken) =>
        db.LockedRow<RegistryNamespace>(namespaceId)
            .Select(n => new Usage(n.UsedBytes, n.VersionCount, n.MaxBytes, n.MaxVersions))
            .SingleAsync(cancellationToken);

    /// <summary>Moves the namespace's counters (negative to release), in the caller's transaction.</summary>
    public Task AddAsync(long namespaceId, long bytes, long versions, CancellationToken cancellationToken) =>
        bytes == 0 && versions == 0
            ? Task.CompletedTask
            : db.Namespaces.Where(n => n.Id == namespaceId).ExecuteUpdateAsync(s => s
                .SetProperty(n => n.UsedBytes, n => n.UsedBytes + bytes)
                .SetProperty(n => n.VersionCount, n => n.VersionCount + versions), cancellationToken);

    /// <summary>
    /// Fails with <c>quota_exceeded</c> (saying what is used, the quota and what the push needs) when one more version of
    /// <paramref name="bytes"/> bytes does not fit.
    /// </summary>
    public static void Check(string ns, Usage usage, long bytes)
    {
        if (bytes > long.MaxValue - usage.Bytes)
        {
            Fail.With(ErrorCodes.InvalidRequest, $"Namespace '{ns}' would hold more than {long.MaxValue} bytes with this push.");
        }

        if (usage.MaxVersions is { } maxVersions && usage.Versions >= maxVersions)
        {
            Fail.With(ErrorCodes.QuotaExceeded,
                $"Namespace '{ns}' holds {usage.Versions} versions, its quota; this push needs one more. Delete versions (garbage collection is not needed: deleting frees quota at once) or ask a server administrator to raise the quota.",
                Extensions("versions", maxVersions, usage.Versions, 1));
        }

        if (usage.MaxBytes is { } maxBytes && bytes > maxBytes - usage.Bytes)
        {
            Fail.With(ErrorCodes.QuotaExceeded,
                $"Namespace '{ns}' uses {Show(usage.Bytes)} of its {Show(maxBytes)} quota; this push needs {Show(bytes)} more. Delete versions (deleting frees quota at once) or ask a server administrator to raise the quota.",
                Extensions("bytes", maxBytes, usage.Bytes, bytes));
        }
    }

    /// <summary>Bytes as people read them: <c>1.5 GiB (1610612736 bytes)</c>.</summary>
    public static string Show(long bytes)
    {
        string[] units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
        if (bytes < 1024)
        {
            return bytes == 1 ? "1 byte" : $"{bytes.ToString(CultureInfo.InvariantCulture)} bytes";
        }

        var value = (double)bytes;
        var unit = -1;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return $"{value.ToString("0.#", CultureInfo.InvariantCulture)} {units[unit]} ({bytes.ToString(CultureInfo.InvariantCulture)} bytes)";
    }

    private static Dictionary<string, object?> Extensions(string quota, long limit, long used, long needed) => new()
    {
        ["quota"] = quota,
        ["limit"] = limit,
        ["used"] = used,
        ["needed"] = needed,
    };

    /// <summary>A namespace's counters and quotas (null: unlimited).</summary>
    public sealed record Usage(long Bytes, long Versions, long? MaxBytes, long? MaxVersions);
}
