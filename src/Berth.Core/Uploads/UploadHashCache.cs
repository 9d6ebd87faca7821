using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Berth.Core.Uploads;

/// <summary>
/// The running SHA-256 of uploads this process is receiving, so that finishing a large upload does
/// not read it again. Only an optimisation: a state is used only when its offset equals the upload's
/// current length; otherwise (another replica wrote the last chunk, the process restarted) the
/// prefix is re-hashed from the store. Entries are removed on finish, cancel and expiry.
/// </summary>
public sealed class UploadHashCache
{
    private readonly ConcurrentDictionary<string, HashState> _states = new(StringComparer.Ordinal);

    public int Count => _states.Count;

    /// <summary>Takes the cached state if it covers exactly <paramref name="length"/> bytes; the caller owns it afterwards.</summary>
    public IncrementalHash? Take(string uploadId, long length)
    {
        if (!_states.TryRemove(uploadId, out var state))
        {
            return null;
        }

        if (state.Length == length)
        {
            return state.Hash;
        }

        state.Hash.Dispose();
        return null;
    }

    /// <summary>Keeps the state of an upload that now holds <paramref name="length"/> bytes.</summary>
    public void Put(string uploadId, IncrementalHash hash, long length)
    {
        var state = new HashState(hash, length);
        _states.AddOrUpdate(uploadId, state, (_, old) =>
        {
            old.Hash.Dispose();
            return state;
        });
    }

    public void Remove(string uploadId)
    {
        if (_states.TryRemove(uploadId, out var state))
        {
            state.Hash.Dispose();
        }
    }

    private sealed record HashState(IncrementalHash Hash, long Length);
}
