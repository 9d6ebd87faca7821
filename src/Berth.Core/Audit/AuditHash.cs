using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Berth.Core.Data.Entities;

namespace Berth.Core.Audit;

/// <summary>
/// The hash of an audit entry: SHA-256 over every field, each length-prefixed (so no two different
/// entries can encode alike), ending with the previous entry's hash.
/// </summary>
public static class AuditHash
{
    /// <summary>The "previous hash" of the first entry.</summary>
    public static readonly string Genesis = new('0', 64);

    public static string Compute(AuditEntry entry)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Append(hash, entry.Id.ToString(CultureInfo.InvariantCulture));
        Append(hash, DateTime.SpecifyKind(entry.At, DateTimeKind.Utc).Ticks.ToString(CultureInfo.InvariantCulture));
        Append(hash, entry.ActorId?.ToString(CultureInfo.InvariantCulture));
        Append(hash, entry.Actor);
        Append(hash, entry.Action);
        Append(hash, entry.Namespace);
        Append(hash, entry.Target);
        Append(hash, entry.Details);
        Append(hash, entry.ClientAddress);
        Append(hash, entry.RequestId);
        Append(hash, entry.PreviousHash);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    private static void Append(IncrementalHash hash, string? value)
    {
        Span<byte> length = stackalloc byte[4];
        if (value is null)
        {
            BinaryPrimitives.WriteInt32BigEndian(length, -1);
            hash.AppendData(length);
            return;
        }

        var bytes = Encoding.UTF8.GetBytes(value);
        BinaryPrimitives.WriteInt32BigEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}
