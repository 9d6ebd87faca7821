using System.Buffers;
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
        Span<byte> id = stackalloc byte[20];
        Span<byte> ticks = stackalloc byte[20];
        Span<byte> actorId = stackalloc byte[20];
        entry.Id.TryFormat(id, out var idLength, provider: CultureInfo.InvariantCulture);
        DateTime.SpecifyKind(entry.At, DateTimeKind.Utc).Ticks.TryFormat(ticks, out var ticksLength, provider: CultureInfo.InvariantCulture);
        var actorIdLength = -1;
        if (entry.ActorId is { } actor)
        {
            actor.TryFormat(actorId, out actorIdLength, provider: CultureInfo.InvariantCulture);
        }

        string?[] text = [entry.Actor, entry.Action, entry.Namespace, entry.Target, entry.Details, entry.ClientAddress, entry.RequestId, entry.PreviousHash];
        var size = (4 * 11) + idLength + ticksLength + Math.Max(actorIdLength, 0);
        foreach (var value in text)
        {
            size += value is null ? 0 : Encoding.UTF8.GetByteCount(value);
        }

        var rented = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            var buffer = rented.AsSpan();
            var at = 0;
            Append(buffer, ref at, id[..idLength]);
            Append(buffer, ref at, ticks[..ticksLength]);
            if (actorIdLength < 0)
            {
                AppendNull(buffer, ref at);
            }
            else
            {
                Append(buffer, ref at, actorId[..actorIdLength]);
            }

            foreach (var value in text)
            {
                if (value is null)
                {
                    AppendNull(buffer, ref at);
                    continue;
                }

                var length = Encoding.UTF8.GetBytes(value, buffer[(at + 4)..]);
                BinaryPrimitives.WriteInt32BigEndian(buffer[at..], length);
                at += 4 + length;
            }

            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(buffer[..at], hash);
            return Convert.ToHexStringLower(hash);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void Append(Span<byte> buffer, ref int at, ReadOnlySpan<byte> value)
    {
        BinaryPrimitives.WriteInt32BigEndian(buffer[at..], value.Length);
        value.CopyTo(buffer[(at + 4)..]);
        at += 4 + value.Length;
    }

    private static void AppendNull(Span<byte> buffer, ref int at)
    {
        BinaryPrimitives.WriteInt32BigEndian(buffer[at..], -1);
        at += 4;
    }
}
