namespace Berth.Server.Api.Auth;

/// <summary>The identity provider's discovery document or key set could not be fetched, and none is cached.</summary>
internal sealed class OidcMetadataUnavailableException(string address, Exception inner)
    : InvalidOperationException($"The identity provider's configuration could not be fetched from {address}.", inner);
