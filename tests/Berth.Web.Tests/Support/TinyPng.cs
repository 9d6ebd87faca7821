using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Berth.Web.Tests.Support;

/// <summary>Real PNG files for run-file tests (what a training job's plots are): 8-bit RGB, written from a pixel function.</summary>
public static class TinyPng
{
    public static byte[] Draw(int width, int height, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var raw = new byte[height * ((width * 3) + 1)];
        for (var y = 0; y < height; y++)
        {
            var row = y * ((width * 3) + 1);
            raw[row] = 0; // filter: none
            for (var x = 0; x < width; x++)
            {
                var (r, g, b) = pixel(x, y);
                raw[row + 1 + (x * 3)] = r;
                raw[row + 2 + (x * 3)] = g;
                raw[row + 3 + (x * 3)] = b;
            }
        }

        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(raw);
        }

        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // colour type: RGB
        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", compressed.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    /// <summary>A loss curve: a falling line on a light grid.</summary>
    public static byte[] LossCurve(int width = 360, int height = 220) => Draw(width, height, (x, y) =>
    {
        var curve = (int)(height * 0.85 * Math.Exp(-x / (width / 4.0))) + (int)(height * 0.08);
        var lineY = height - curve;
        if (Math.Abs(y - lineY) <= 1)
        {
            return (37, 99, 235);
        }

        return x % 40 == 0 || y % 40 == 0 ? ((byte)226, (byte)232, (byte)240) : ((byte)255, (byte)255, (byte)255);
    });

    /// <summary>A confusion matrix: a 10 × 10 heat map, dark on the diagonal.</summary>
    public static byte[] Confusion(int size = 200) => Draw(size, size, (x, y) =>
    {
        var (i, j) = (x * 10 / size, y * 10 / size);
        var v = i == j ? 200 : ((i * 7) + (j * 3)) % 40;
        return ((byte)(255 - v), (byte)(255 - (v / 2)), 255);
    });

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        png.Write(length);
        var typed = Encoding.ASCII.GetBytes(type).Concat(data).ToArray();
        png.Write(typed);
        BinaryPrimitives.WriteUInt32BigEndian(length, Crc32(typed));
        png.Write(length);
    }

    private static uint Crc32(byte[] data)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in data)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
