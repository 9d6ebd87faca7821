namespace Berth.Web.Hosting;

/// <summary>What an error page says: the status, a sentence for people (null: the status's own), and the request id of a 500.</summary>
public sealed record ErrorInfo(int Status, string? Message, string? RequestId);
