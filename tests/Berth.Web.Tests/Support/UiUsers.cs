using Berth.Api.Tests.Support;
using Berth.Contracts.Dtos;

namespace Berth.Web.Tests.Support;

public static class UiUsers
{
    public const string Password = "correct horse battery staple";

    /// <summary>Creates a user with a known password (the one-time password replaced through the API's sign-in), optionally with a role in a namespace.</summary>
    public static async Task CreateWithPasswordAsync(this TestServer server, string name, string? ns = null, string? role = null)
    {
        var ct = TestContext.Current.CancellationToken;
        var created = await server.Client.CreateUserAsync(new CreateUserRequest(name, $"{name}@example.test"), ct);
        await server.Client.SignInAsync(new SignInRequest(name, created.OneTimePassword, Password), ct);
        if (ns is not null && role is not null)
        {
            await server.Client.SetMemberAsync(ns, new SetMemberRequest(role, User: name), ct);
        }
    }

    /// <summary>Replaces the first-start administrator's one-time password (read from the data folder) with <see cref="Password"/>.</summary>
    public static async Task SetAdminPasswordAsync(this TestServer server)
    {
        var ct = TestContext.Current.CancellationToken;
        var oneTime = (await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, "admin-password"), ct)).Trim();
        await server.Client.SignInAsync(new SignInRequest("admin", oneTime, Password), ct);
    }
}
