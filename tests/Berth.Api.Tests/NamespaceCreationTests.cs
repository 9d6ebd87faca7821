using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests;

/// <summary>Who may create namespaces: the setting Registry:NamespaceCreation (Personal by default, Admins, Users).</summary>
public sealed class NamespaceCreationTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ByDefaultUsersCreateOnlyTheNamespaceNamedAsThemselves()
    {
        await using var server = await TestServer.StartAsync();
        using var ines = await server.AddUserAsync("ines");
        using var jon = await server.AddUserAsync("jon");
        using var folder = new ModelFolder(("w.bin", 16));

        var pushed = await ines.Client.PushAsync(folder.Root, "ines", "model", new PushOptions(), cancellationToken: Ct);
        Assert.Equal(1, pushed.Version.Number);
        Assert.Equal([("ines", Roles.Admin)], (await ines.Client.ListMembersAsync("ines", Ct).ToListAsync(Ct)).Select(m => (m.User, m.Role)));
        Assert.Equal("jon", (await jon.Client.CreateNamespaceAsync(new CreateNamespaceRequest("jon"), Ct)).Name);

        // A push may not tell whether the namespace exists: the 404 of a namespace the user may not see, with the rule.
        var byPush = await Assert.ThrowsAsync<BerthProblemException>(() => ines.Client.PushAsync(folder.Root, "acme", "model", new PushOptions(), cancellationToken: Ct));
        AssertHidden(byPush, "Personal");
        Assert.Contains("'ines'", byPush.Message, StringComparison.Ordinal);
        AssertRefused(await Assert.ThrowsAsync<BerthProblemException>(() => jon.Client.CreateNamespaceAsync(new CreateNamespaceRequest("acme"), Ct)), "Personal");
        AssertRefused(await Assert.ThrowsAsync<BerthProblemException>(() => jon.Client.CreateNamespaceAsync(new CreateNamespaceRequest("ines-2"), Ct)), "Personal");
        Assert.DoesNotContain(await server.Client.ListNamespacesAsync(Ct).ToListAsync(Ct), n => n.Name == "acme");

        // Server administrators create any namespace, and then give users roles in it.
        await server.CreateNamespaceAsync("acme");
        await server.Client.SetMemberAsync("acme", new SetMemberRequest(Roles.Writer, User: "ines"), Ct);
        Assert.Equal(1, (await ines.Client.PushAsync(folder.Root, "acme", "model", new PushOptions(), cancellationToken: Ct)).Version.Number);
        await server.Client.PushAsync(folder.Root, "admins-own", "model", new PushOptions(), cancellationToken: Ct);
    }

    [Fact]
    public async Task AReadTokenCannotCreateEvenThePersonalNamespace()
    {
        await using var server = await TestServer.StartAsync();
        using var reader = await server.AddUserAsync("kim", scopes: ["read"]);
        using var folder = new ModelFolder(("w.bin", 16));
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => reader.Client.PushAsync(folder.Root, "kim", "model", new PushOptions(), cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (refused.Status, refused.Code));
    }

    [Fact]
    public async Task WithAdminsOnlyServerAdministratorsCreateNamespaces()
    {
        await using var server = await TestServer.StartAsync("--Registry:NamespaceCreation", "Admins");
        using var lee = await server.AddUserAsync("lee");
        using var folder = new ModelFolder(("w.bin", 16));
        AssertHidden(await Assert.ThrowsAsync<BerthProblemException>(() => lee.Client.PushAsync(folder.Root, "lee", "model", new PushOptions(), cancellationToken: Ct)), "Admins");
        AssertRefused(await Assert.ThrowsAsync<BerthProblemException>(() => lee.Client.CreateNamespaceAsync(new CreateNamespaceRequest("lee"), Ct)), "Admins");
        await server.CreateNamespaceAsync("lee");
    }

    [Fact]
    public async Task WithUsersAnyoneCreatesNamespacesAndBecomesTheirAdmin()
    {
        await using var server = await TestServer.StartAsync("--Registry:NamespaceCreation", "Users");
        using var max = await server.AddUserAsync("max");
        using var folder = new ModelFolder(("w.bin", 16));
        await max.Client.PushAsync(folder.Root, "team-x", "model", new PushOptions(), cancellationToken: Ct);
        await max.Client.CreateNamespaceAsync(new CreateNamespaceRequest("team-y"), Ct);
        Assert.Equal([("max", Roles.Admin)], (await max.Client.ListMembersAsync("team-y", Ct).ToListAsync(Ct)).Select(m => (m.User, m.Role)));
    }

    private static void AssertHidden(BerthProblemException refused, string setting)
    {
        Assert.Equal((HttpStatusCode.NotFound, "namespace_not_found"), (refused.Status, refused.Code));
        Assert.Contains($"Registry:NamespaceCreation={setting}", refused.Message, StringComparison.Ordinal);
    }

    private static void AssertRefused(BerthProblemException refused, string setting)
    {
        Assert.Equal((HttpStatusCode.Forbidden, "namespace_creation_forbidden"), (refused.Status, refused.Code));
        Assert.Contains($"Registry:NamespaceCreation={setting}", refused.Message, StringComparison.Ordinal);
    }
}
