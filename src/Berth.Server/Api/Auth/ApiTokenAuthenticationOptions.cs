using Microsoft.AspNetCore.Authentication;

namespace Berth.Server.Api.Auth;

public sealed class ApiTokenAuthenticationOptions : AuthenticationSchemeOptions;
