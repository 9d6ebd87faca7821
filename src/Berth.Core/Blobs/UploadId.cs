using System.Diagnostics.CodeAnalysis;
using System.Security.Cryptography;

namespace Berth.Core.Blobs;

/// <summary>The id of an upload session: 32 lowercase hex characters (128 random bits), safe in paths.</summary>
public readonly record struct UploadId
{
    private UploadId(string value) => Value = value;

    public string Value { get; }

    public static UploadId New() => new(Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)));

    public static bool TryParse([NotNullWhen(true)] string? value, out UploadId id)
    {
        id = default;
        if (value is not { Length: 32 })
        {
            return false;
        }

        foreach (var c in value)
        {
            if (c is not ((>= '0' and <= '9') or (>= 'a' and <= 'f')))
            {
                return false;
            }
        }

        id = new UploadId(value);
        return true;
    }

    public override string ToString() => Value;
}
