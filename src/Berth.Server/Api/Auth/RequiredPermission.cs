using Berth.Core.Auth;

namespace Berth.Server.Api.Auth;

/// <summary>Endpoint metadata: the permission a route needs, checked against its {namespace} route value.</summary>
public sealed record RequiredPermission(Permission Permission);
