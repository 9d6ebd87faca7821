using Berth.Core.Common;
using Berth.Core.Uploads;

namespace Berth.Server.Hosting;

/// <summary>
/// The identity of this server process among the processes sharing a data folder: the first of
/// <c>&lt;data&gt;/replica-&lt;n&gt;.lock</c> it can lock exclusively (an advisory lock the kernel releases when the
/// process dies) holds the identity's id. A server restarted on its data folder gets the same slot and id back, and so
/// can take over the upload leases its killed predecessor left (<see cref="ReplicaIdentity"/>). Without a usable folder
/// (read-only, every slot taken) the identity is ephemeral.
/// </summary>
internal sealed class ReplicaSlot : IDisposable
{
    private const int Slots = 32;
    private readonly FileStream? _lock;

    private ReplicaSlot(FileStream? held, ReplicaIdentity identity)
    {
        _lock = held;
        Identity = identity;
    }

    public ReplicaIdentity Identity { get; }

    public static ReplicaSlot Acquire(string dataDirectory)
    {
        for (var slot = 0; slot < Slots; slot++)
        {
            FileStream file;
            try
            {
                PrivateFiles.CreateDirectory(dataDirectory);
                file = new FileStream(Path.Combine(dataDirectory, $"replica-{slot}.lock"),
                    new FileStreamOptions { Mode = FileMode.OpenOrCreate, Access = FileAccess.ReadWrite, Share = FileShare.None }.Private());
            }
            catch (IOException)
            {
                continue; // Another live process holds this slot.
            }
            catch (UnauthorizedAccessException)
            {
                break;
            }

            try
            {
                return new ReplicaSlot(file, new ReplicaIdentity(ReadOrCreateId(file), exclusive: true));
            }
            catch (IOException)
            {
                file.Dispose();
                break;
            }
        }

        return new ReplicaSlot(null, ReplicaIdentity.Ephemeral());
    }

    private static string ReadOrCreateId(FileStream file)
    {
        var buffer = new byte[16];
        var read = file.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
        var text = System.Text.Encoding.ASCII.GetString(buffer, 0, read);
        if (read == buffer.Length && text.All(char.IsAsciiHexDigitLower))
        {
            return text;
        }

        var id = ReplicaIdentity.Ephemeral().Id;
        file.SetLength(0);
        file.Write(System.Text.Encoding.ASCII.GetBytes(id));
        file.Flush(flushToDisk: true);
        return id;
    }

    public void Dispose() => _lock?.Dispose();
}
