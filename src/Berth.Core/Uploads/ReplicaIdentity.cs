using System.Security.Cryptography;

namespace Berth.Core.Uploads;

/// <summary>
/// Who this server process is in the leases it holds (the start of every owner it writes). An
/// <see cref="Exclusive"/> identity is bound to a lock only one live process can hold (a file in the data folder):
/// leases carrying it that this process did not take were left by the process that held it before, which is dead,
/// so a restarted server takes them over at once instead of waiting for them to lapse.
/// </summary>
public sealed class ReplicaIdentity(string id, bool exclusive)
{
    public string Id { get; } = id;

    public bool Exclusive { get; } = exclusive;

    /// <summary>An identity of this process only (no lock): its leases lapse by time after it dies.</summary>
    public static ReplicaIdentity Ephemeral() => new(RandomNumberGenerator.GetHexString(16, lowercase: true), exclusive: false);
}
