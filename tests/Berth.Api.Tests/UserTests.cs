using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests;

/// <summary>Users, password sign-in, teams and namespace roles.</summary>
public sealed class UserTests(ServerFixture fixture) : IClassFixture<ServerFixture>
{
    private TestServer Server => fixture.Server;
    private BerthClient Admin => Server.Client;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task ANewUserSignsInWithTheirOneTimePasswordAndMustReplaceIt()
    {
        var created = await Admin.CreateUserAsync(new CreateUserRequest("alice", "alice@acme.io", "Alice Liddell"), Ct);
        Assert.True(created.User.MustChangePassword);
        Assert.True(created.OneTimePassword.Length >= 16);
        using var anonymous = Server.NewClient(null);

        var mustChange = await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("alice", created.OneTimePassword), Ct));
        Assert.Equal("password_change_required", mustChange.Code);
        var weak = await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("alice", created.OneTimePassword, "short"), Ct));
        Assert.Equal("weak_password", weak.Code);

        var session = await anonymous.SignInAsync(new SignInRequest("alice", created.OneTimePassword, "correct horse battery"), Ct);
        Assert.Equal("alice", session.User.Name);
        using var alice = Server.NewClient(session.Session.Token);
        Assert.Equal("alice", (await alice.WhoAmIAsync(Ct)).User.Name);
        Assert.False((await Admin.GetUserAsync("alice", Ct)).MustChangePassword);

        var reused = await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("alice", created.OneTimePassword), Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, reused.Status);
        Assert.Equal("sign_in_failed", reused.Code);

        await alice.ChangePasswordAsync(new ChangePasswordRequest("correct horse battery", "a better passphrase"), Ct);
        var old = await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("alice", "correct horse battery"), Ct));
        Assert.Equal("sign_in_failed", old.Code);
        Assert.Equal("alice", (await anonymous.SignInAsync(new SignInRequest("alice", "a better passphrase"), Ct)).User.Name);

        var reset = await Admin.ResetPasswordAsync("alice", Ct);
        Assert.NotEqual(created.OneTimePassword, reset.OneTimePassword);
        Assert.Equal("sign_in_failed", (await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("alice", "a better passphrase"), Ct))).Code);
        Assert.Equal("password_change_required", (await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("alice", reset.OneTimePassword), Ct))).Code);
    }

    [Fact]
    public async Task UnknownUsersAndWrongPasswordsGetTheSameAnswer()
    {
        var created = await Admin.CreateUserAsync(new CreateUserRequest("mallory-target"), Ct);
        using var anonymous = Server.NewClient(null);
        await anonymous.SignInAsync(new SignInRequest("mallory-target", created.OneTimePassword, "the real password"), Ct);

        var unknown = await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("nobody-here", "whatever123"), Ct));
        var wrong = await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("mallory-target", "whatever123"), Ct));
        Assert.Equal((unknown.Status, unknown.Code, unknown.Message), (wrong.Status, wrong.Code, wrong.Message));
        Assert.Equal("mallory-target", (await anonymous.SignInAsync(new SignInRequest("mallory-target", "the real password"), Ct)).User.Name);
    }

    [Fact]
    public async Task ChangingThePasswordNeedsAWriteScopedToken()
    {
        var created = await Admin.CreateUserAsync(new CreateUserRequest("read-only-rita"), Ct);
        using var anonymous = Server.NewClient(null);
        var session = await anonymous.SignInAsync(new SignInRequest("read-only-rita", created.OneTimePassword, "ritas password"), Ct);
        using var rita = Server.NewClient(session.Session.Token);
        var read = await rita.CreateTokenAsync(new CreateTokenRequest("reader", ["read"]), Ct);
        using var reader = Server.NewClient(read.Token);

        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => reader.ChangePasswordAsync(new ChangePasswordRequest("ritas password", "a stolen takeover"), Ct));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (refused.Status, refused.Code));
        Assert.Equal("read-only-rita", (await anonymous.SignInAsync(new SignInRequest("read-only-rita", "ritas password"), Ct)).User.Name);

        await rita.ChangePasswordAsync(new ChangePasswordRequest("ritas password", "ritas new password"), Ct);
        Assert.Equal("read-only-rita", (await anonymous.SignInAsync(new SignInRequest("read-only-rita", "ritas new password"), Ct)).User.Name);
    }

    [Fact]
    public async Task ADisabledUsersTokensAndSessionsStopWorkingAtOnce()
    {
        using var bob = await Server.AddUserAsync("bob-disabled");
        Assert.Equal("bob-disabled", (await bob.Client.WhoAmIAsync(Ct)).User.Name);

        var disabled = await Admin.UpdateUserAsync("bob-disabled", new UpdateUserRequest(Disabled: true), Ct);
        Assert.True(disabled.Disabled);
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => bob.Client.WhoAmIAsync(Ct));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.Status);
        Assert.Equal("user_disabled", refused.Code);
        var reset = await Admin.ResetPasswordAsync("bob-disabled", Ct);
        using var anonymous = Server.NewClient(null);
        Assert.Equal("sign_in_failed", (await Assert.ThrowsAsync<BerthProblemException>(() => anonymous.SignInAsync(new SignInRequest("bob-disabled", reset.OneTimePassword, "a new password!"), Ct))).Code);

        await Admin.UpdateUserAsync("bob-disabled", new UpdateUserRequest(Disabled: false), Ct);
        Assert.Equal("bob-disabled", (await bob.Client.WhoAmIAsync(Ct)).User.Name);
    }

    [Fact]
    public async Task UsersMintTheirOwnTokensAndOnlyServerAdminsMintForOthers()
    {
        using var carol = await Server.AddUserAsync("carol-tokens");
        using var dave = await Server.AddUserAsync("dave-tokens");
        var own = await carol.Client.CreateTokenAsync(new CreateTokenRequest("laptop"), Ct);
        using (var laptop = Server.NewClient(own.Token))
        {
            Assert.Equal("carol-tokens", (await laptop.WhoAmIAsync(Ct)).User.Name);
        }

        var forOther = await Assert.ThrowsAsync<BerthProblemException>(() => carol.Client.CreateTokenAsync(new CreateTokenRequest("sneaky", User: "dave-tokens"), Ct));
        Assert.Equal("forbidden", forOther.Code);
        var minted = await Admin.CreateTokenAsync(new CreateTokenRequest("ci", ["read"], User: "carol-tokens"), Ct);
        using var ci = Server.NewClient(minted.Token);
        var whoami = await ci.WhoAmIAsync(Ct);
        Assert.Equal("carol-tokens", whoami.User.Name);
        Assert.False(whoami.User.IsAdmin);
        Assert.Contains(await carol.Client.ListTokensAsync(cancellationToken: Ct).ToListAsync(Ct), t => t.Id == minted.Info.Id);

        var unknown = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateTokenAsync(new CreateTokenRequest("x", User: "no-such-user"), Ct));
        Assert.Equal("user_not_found", unknown.Code);
    }

    [Fact]
    public async Task UserNamesAndProfilesAreValidated()
    {
        Assert.Equal("invalid_name", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateUserAsync(new CreateUserRequest("Not Valid"), Ct))).Code);
        Assert.Equal("invalid_request", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateUserAsync(new CreateUserRequest("emailless", "not-an-email"), Ct))).Code);
        await Admin.CreateUserAsync(new CreateUserRequest("twice"), Ct);
        var again = await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateUserAsync(new CreateUserRequest("twice"), Ct));
        Assert.Equal((HttpStatusCode.Conflict, "user_exists"), (again.Status, again.Code));
        Assert.Equal("user_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.GetUserAsync("never-created", Ct))).Code);

        var users = await Admin.ListUsersAsync(Ct).ToListAsync(Ct);
        Assert.Contains(users, u => u.Name == "admin" && u.IsAdmin);
        Assert.Contains(users, u => u.Name == "twice" && !u.IsAdmin);
    }

    [Fact]
    public async Task RolesComeFromMembershipsAndTeamsAndTheHighestWins()
    {
        await Server.CreateNamespaceAsync("roles");
        using var erin = await Server.AddUserAsync("erin-roles", "roles", Roles.Reader);
        using var folder = new ModelFolder(("w.bin", 16));
        var denied = await Assert.ThrowsAsync<BerthProblemException>(() => erin.Client.PushAsync(folder.Root, "roles", "m", new PushOptions(), cancellationToken: Ct));
        Assert.Equal((HttpStatusCode.Forbidden, "forbidden"), (denied.Status, denied.Code));
        Assert.Contains("reader", denied.Message, StringComparison.Ordinal);

        await Admin.CreateTeamAsync(new CreateTeamRequest("ml-platform", "Model builders"), Ct);
        await Admin.AddTeamMemberAsync("ml-platform", "erin-roles", Ct);
        await Admin.SetMemberAsync("roles", new SetMemberRequest(Roles.Writer, Team: "ml-platform"), Ct);
        var pushed = await erin.Client.PushAsync(folder.Root, "roles", "m", new PushOptions(), cancellationToken: Ct);
        Assert.Equal(1, pushed.Version.Number);

        var members = await Admin.ListMembersAsync("roles", Ct).ToListAsync(Ct);
        Assert.Contains(members, m => m.User == "erin-roles" && m.Role == Roles.Reader);
        Assert.Contains(members, m => m.Team == "ml-platform" && m.Role == Roles.Writer);
        Assert.Contains(members, m => m.User == "admin" && m.Role == Roles.Admin);
        Assert.Equal(["erin-roles"], (await Admin.GetTeamAsync("ml-platform", Ct)).Members);
        Assert.Contains("ml-platform", (await Admin.GetUserAsync("erin-roles", Ct)).Teams);

        await Admin.RemoveTeamMemberAsync("ml-platform", "erin-roles", Ct);
        var afterLeaving = await Assert.ThrowsAsync<BerthProblemException>(() => erin.Client.UpdateModelAsync("roles", "m", new UpdateModelRequest("x"), cancellationToken: Ct));
        Assert.Equal("forbidden", afterLeaving.Code);
        Assert.Equal("m", (await erin.Client.GetModelAsync("roles", "m", Ct)).Name);

        await Admin.RemoveMemberAsync("roles", user: "erin-roles", cancellationToken: Ct);
        Assert.Equal("namespace_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => erin.Client.GetModelAsync("roles", "m", Ct))).Code);
        Assert.DoesNotContain(await erin.Client.ListNamespacesAsync(Ct).ToListAsync(Ct), n => n.Name == "roles");
    }

    [Fact]
    public async Task MembershipRequestsAreValidated()
    {
        await Server.CreateNamespaceAsync("members");
        await Admin.CreateUserAsync(new CreateUserRequest("frank-members"), Ct);
        Assert.Equal("invalid_role", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.SetMemberAsync("members", new SetMemberRequest("owner", User: "frank-members"), Ct))).Code);
        Assert.Equal("user_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.SetMemberAsync("members", new SetMemberRequest(Roles.Reader, User: "ghost"), Ct))).Code);
        Assert.Equal("team_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.SetMemberAsync("members", new SetMemberRequest(Roles.Reader, Team: "ghosts"), Ct))).Code);
        Assert.Equal("invalid_request", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.SetMemberAsync("members", new SetMemberRequest(Roles.Reader, "frank-members", "ml"), Ct))).Code);
        Assert.Equal("namespace_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.SetMemberAsync("no-such-ns", new SetMemberRequest(Roles.Reader, User: "frank-members"), Ct))).Code);
        Assert.Equal("member_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.RemoveMemberAsync("members", user: "frank-members", cancellationToken: Ct))).Code);

        var granted = await Admin.SetMemberAsync("members", new SetMemberRequest(Roles.Approver, User: "frank-members"), Ct);
        Assert.Equal((Roles.Approver, "admin"), (granted.Role, granted.GrantedBy));
        var changed = await Admin.SetMemberAsync("members", new SetMemberRequest(Roles.Writer, User: "frank-members"), Ct);
        Assert.Equal(Roles.Writer, changed.Role);
        Assert.Single(await Admin.ListMembersAsync("members", Ct).ToListAsync(Ct), m => m.User == "frank-members");
    }

    [Fact]
    public async Task ANamespaceCreatorBecomesItsAdmin()
    {
        using var grace = await Server.AddUserAsync("grace-creator");
        await grace.Client.CreateNamespaceAsync(new CreateNamespaceRequest("grace-creator"), Ct);
        var members = await grace.Client.ListMembersAsync("grace-creator", Ct).ToListAsync(Ct);
        Assert.Equal([("grace-creator", Roles.Admin)], members.Select(m => (m.User, m.Role)));
        await grace.Client.SetStageRuleAsync("grace-creator", null, "shadow", new SetStageRuleRequest(Position: 1), Ct);
    }

    [Fact]
    public async Task TeamsAreManagedByServerAdmins()
    {
        await Admin.CreateUserAsync(new CreateUserRequest("henry-teams"), Ct);
        var team = await Admin.CreateTeamAsync(new CreateTeamRequest("risk", "Risk models", "oidc-risk"), Ct);
        Assert.Equal(("risk", "oidc-risk"), (team.Name, team.ExternalGroup));
        Assert.Equal("team_exists", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.CreateTeamAsync(new CreateTeamRequest("risk"), Ct))).Code);
        Assert.Equal("user_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.AddTeamMemberAsync("risk", "nobody-at-all", Ct))).Code);
        Assert.Equal(["henry-teams"], (await Admin.AddTeamMemberAsync("risk", "henry-teams", Ct)).Members);
        Assert.Contains(await Admin.ListTeamsAsync(Ct).ToListAsync(Ct), t => t.Name == "risk");

        await Server.CreateNamespaceAsync("teams-ns");
        await Admin.SetMemberAsync("teams-ns", new SetMemberRequest(Roles.Reader, Team: "risk"), Ct);
        await Admin.DeleteTeamAsync("risk", Ct);
        Assert.Equal("team_not_found", (await Assert.ThrowsAsync<BerthProblemException>(() => Admin.GetTeamAsync("risk", Ct))).Code);
        Assert.DoesNotContain(await Admin.ListMembersAsync("teams-ns", Ct).ToListAsync(Ct), m => m.Team == "risk");
    }
}
