using Berth.Core.Auth;

namespace Berth.Server.Api.Auth;

/// <summary>
/// Endpoint metadata: the permission a route needs, checked against its {namespace} route value.
/// <paramref name="CreatesNamespace"/>: the endpoint creates the namespace on first use (a push), so a name nobody
/// holds yet is no refusal (see <see cref="AccessControl"/>).
/// </summary>
public sealed record RequiredPermission(Permission Permission, bool CreatesNamespace = false);
