using Berth.Client;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests.Support;

/// <summary>A user of a test server with a token and a client acting as them.</summary>
public sealed record TestUser(string Name, string Token, BerthClient Client, HttpClient Http) : IDisposable
{
    public void Dispose()
    {
        Client.Dispose();
        Http.Dispose();
    }
}

public static class Users
{
    /// <summary>
    /// Creates a user (through the API, as the server admin), mints a token for them, and optionally
    /// grants them a role in a namespace.
    /// </summary>
    public static async Task<TestUser> AddUserAsync(this TestServer server, string name, string? ns = null, string? role = null, IReadOnlyList<string>? scopes = null)
    {
        var ct = TestContext.Current.CancellationToken;
        await server.Client.CreateUserAsync(new CreateUserRequest(name, $"{name}@example.test"), ct);
        var token = await server.Client.CreateTokenAsync(new CreateTokenRequest("tests", scopes, User: name), ct);
        if (ns is not null && role is not null)
        {
            await server.Client.SetMemberAsync(ns, new SetMemberRequest(role, User: name), ct);
        }

        return new TestUser(name, token.Token, server.NewClient(token.Token), server.NewHttp(token.Token));
    }

    /// <summary>Creates a namespace owned by the server admin unless it exists already.</summary>
    public static async Task CreateNamespaceIfMissingAsync(this TestServer server, string ns)
    {
        using var response = await server.Http.GetAsync($"/api/v1/namespaces/{ns}", TestContext.Current.CancellationToken);
        if (response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            await server.CreateNamespaceAsync(ns);
        }
    }

    /// <summary>Creates a namespace owned by the server admin.</summary>
    public static async Task CreateNamespaceAsync(this TestServer server, string ns) =>
        await server.Client.CreateNamespaceAsync(new CreateNamespaceRequest(ns), TestContext.Current.CancellationToken);
}
