using Microsoft.IdentityModel.Protocols;
using Microsoft.IdentityModel.Protocols.OpenIdConnect;
using Microsoft.IdentityModel.Tokens;

namespace Berth.Server.Api.Auth;

/// <summary>
/// The identity provider's configuration (discovery document or bare key set, with its signing keys), cached
/// for <see cref="BaseConfigurationManager.AutomaticRefreshInterval"/>. A token signed with a key the cache does
/// not hold makes the token handler ask for a refresh (at most once per <see cref="BaseConfigurationManager.RefreshInterval"/>);
/// the next read then waits for the fetch, so the first token of a key rollover is checked against the new keys
/// and accepted. IdentityModel's own manager does that only when a process-wide switch was set before the
/// library first read it, which depends on what else the process did first; this one does it always.
/// </summary>
internal sealed class OidcConfigurationManager(
    string address,
    IConfigurationRetriever<OpenIdConnectConfiguration> retriever,
    IDocumentRetriever documents,
    TimeProvider clock) : BaseConfigurationManager, IConfigurationManager<OpenIdConnectConfiguration>
{
    private readonly SemaphoreSlim _fetching = new(1, 1);
    private readonly Lock _lock = new();
    private OpenIdConnectConfiguration? _current;
    private DateTimeOffset _refreshAfter;
    private DateTimeOffset _lastRequested = DateTimeOffset.MinValue;

    public async Task<OpenIdConnectConfiguration> GetConfigurationAsync(CancellationToken cancel)
    {
        if (Fresh() is { } fresh)
        {
            return fresh;
        }

        await _fetching.WaitAsync(cancel);
        try
        {
            // Another request may have fetched it while this one waited.
            if (Fresh() is { } fetched)
            {
                return fetched;
            }

            OpenIdConnectConfiguration? stale;
            lock (_lock)
            {
                stale = _current;
            }

            try
            {
                var configuration = await retriever.GetConfigurationAsync(address, documents, cancel);
                lock (_lock)
                {
                    _current = configuration;
                    _refreshAfter = clock.GetUtcNow() + AutomaticRefreshInterval;
                }

                return configuration;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                if (stale is null)
                {
                    throw new OidcMetadataUnavailableException(address, e);
                }

                // The provider is unreachable: keep the keys already known, and ask again after the refresh interval.
                lock (_lock)
                {
                    _refreshAfter = clock.GetUtcNow() + RefreshInterval;
                }

                return stale;
            }
        }
        finally
        {
            _fetching.Release();
        }
    }

    public override async Task<BaseConfiguration> GetBaseConfigurationAsync(CancellationToken cancel) => await GetConfigurationAsync(cancel);

    /// <summary>Makes the next read fetch the configuration again, unless a refresh was asked for less than <see cref="BaseConfigurationManager.RefreshInterval"/> ago.</summary>
    public override void RequestRefresh()
    {
        var now = clock.GetUtcNow();
        lock (_lock)
        {
            if (now - _lastRequested < RefreshInterval)
            {
                return;
            }

            _lastRequested = now;
            _refreshAfter = now;
        }
    }

    private OpenIdConnectConfiguration? Fresh()
    {
        lock (_lock)
        {
            return _current is not null && clock.GetUtcNow() < _refreshAfter ? _current : null;
        }
    }
}
