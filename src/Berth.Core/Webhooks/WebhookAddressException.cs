namespace Berth.Core.Webhooks;

/// <summary>
/// A webhook's host cannot be called: it does not resolve, or names an address <see cref="AddressPolicy"/> refuses.
/// <see cref="Exception.Message"/> (with the resolved address) is for the server's log and its administrators;
/// <see cref="PublicMessage"/> is what a namespace admin may see.
/// </summary>
public sealed class WebhookAddressException(string category, string publicMessage, string message) : Exception(message)
{
    /// <summary>One of <see cref="Contracts.Dtos.DeliveryErrors"/>.</summary>
    public string Category { get; } = category;

    public string PublicMessage { get; } = publicMessage;
}
