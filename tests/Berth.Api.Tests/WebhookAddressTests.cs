using System.Net;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests;

/// <summary>
/// Server-side request forgery through webhooks: a namespace admin may not make the server call loopback, private,
/// link-local (cloud metadata) or reserved addresses, in any spelling (numeric, octal, hex, short forms, IPv6 forms that
/// carry an IPv4 address, names that resolve there), neither when saving a webhook nor when delivering to it.
/// </summary>
// Engine-independent (which webhook addresses are allowed): run in scripts/test.sh's SQLite pass only (AssemblyTraits.cs).
[Trait("Database", "sqlite")]
public sealed class WebhookAddressTests(WebhookAddressTests.World world) : IClassFixture<WebhookAddressTests.World>
{
    private const string Secret = "a-test-secret-of-some-length";
    private const string PublicUrl = "http://93.184.215.14/hook";
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A server with the default rules (no allow-list).</summary>
    public sealed class World : IAsyncLifetime
    {
        private int _namespaces;

        public TestServer Server { get; private set; } = null!;

        public async ValueTask InitializeAsync() => Server = await TestServer.StartAsync();

        public async Task<string> NamespaceAsync()
        {
            var ns = "addr" + Interlocked.Increment(ref _namespaces);
            await Server.CreateNamespaceAsync(ns);
            return ns;
        }

        public async ValueTask DisposeAsync() => await Server.DisposeAsync();
    }

    /// <summary>Spellings of addresses that are not public receivers.</summary>
    public static TheoryData<string> Internal => new(
    [
        // Loopback, as browsers and resolvers read it.
        "http://127.0.0.1:9/hook", "http://127.0.0.2/hook", "http://[::1]:9/hook", "http://localhost:9/hook", "http://LOCALHOST./hook",
        "http://ci.localhost/hook", "http://0x7f000001/hook", "http://2130706433/hook", "http://0177.0.0.1/hook", "http://017700000001/hook",
        "http://127.1/hook", "http://0x7f.1/hook", "http://127.0.0.1./hook", "http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/hook",
        // IPv6 forms of 127.0.0.1: mapped, compatible, SIIT, NAT64 (well-known and local-use), 6to4, Teredo (client).
        "http://[::ffff:127.0.0.1]/hook", "http://[::ffff:7f00:1]/hook", "http://[0:0:0:0:0:ffff:127.0.0.1]/hook", "http://[::127.0.0.1]/hook",
        "http://[::ffff:0:7f00:1]/hook", "http://[64:ff9b::127.0.0.1]/hook", "http://[64:ff9b:1::7f00:1]/hook", "http://[2002:7f00:1::1]/hook",
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/hook",
        // Private, carrier-grade NAT, unique-local, site-local, benchmarking, reserved; and private ones behind NAT64/6to4.
        "http://10.0.0.1/hook", "http://172.16.5.4/hook", "http://192.168.1.1/hook", "http://0xc0a80101/hook", "http://100.64.0.1/hook",
        "http://[fd00::1]/hook", "http://[fec0::1]/hook", "http://198.18.0.1/hook", "http://240.0.0.1/hook", "http://192.0.0.8/hook",
        "http://[64:ff9b::a00:1]/hook", "http://[2002:c0a8:101::1]/hook",
        // Link-local and cloud metadata, unspecified, multicast: refused whatever the settings.
        "http://169.254.169.254/latest/meta-data/", "http://[::ffff:169.254.169.254]/", "http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::1]/",
        "http://[fd00:ec2::254]/", "http://100.100.100.200/", "http://[fe80::1]/hook", "http://0.0.0.0/hook", "http://0/hook", "http://[::]/hook",
        "http://224.0.0.1/hook",
    ]);

    [Theory]
    [MemberData(nameof(Internal))]
    public async Task AnInternalAddressIsRefusedWhenAWebhookIsCreatedOrUpdated(string url)
    {
        var ns = await world.NamespaceAsync();
        var created = await Assert.ThrowsAsync<BerthProblemException>(() => world.Server.Client.CreateWebhookAsync(ns, new CreateWebhookRequest(url, Secret), Ct));
        Assert.Equal((HttpStatusCode.BadRequest, "forbidden_address"), (created.Status, created.Code));
        Assert.Empty(await world.Server.Client.ListWebhooksAsync(ns, Ct).ToListAsync(Ct));

        var hook = await world.Server.Client.CreateWebhookAsync(ns, new CreateWebhookRequest(PublicUrl, Secret), Ct);
        var updated = await Assert.ThrowsAsync<BerthProblemException>(() => world.Server.Client.UpdateWebhookAsync(hook.Id, new UpdateWebhookRequest(Url: url), Ct));
        Assert.Equal((HttpStatusCode.BadRequest, "forbidden_address"), (updated.Status, updated.Code));
        Assert.Equal(PublicUrl, (await world.Server.Client.GetWebhookAsync(hook.Id, Ct)).Url);
    }

    [Theory]
    [InlineData("http://256.0.0.1/hook")]
    [InlineData("http://08.0.0.1/hook")]
    [InlineData("http://1.2.3.4.5/hook")]
    [InlineData("http://0x100000000/hook")]
    public async Task AHostThatLooksLikeAnAddressButIsNotOneIsRefused(string url)
    {
        var ns = await world.NamespaceAsync();
        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => world.Server.Client.CreateWebhookAsync(ns, new CreateWebhookRequest(url, Secret), Ct));
        Assert.Equal((HttpStatusCode.BadRequest, "invalid_webhook_url"), (refused.Status, refused.Code));
    }

    [Fact]
    public async Task ANameThatResolvesToAnInternalAddressIsRefusedWithoutRevealingTheAddress()
    {
        // A name the system resolver maps to loopback only (from /etc/hosts: ip6-localhost on Debian, the container's
        // own names here), or else the machine's own name, which resolves to its loopback or private addresses.
        var name = await LoopbackNameAsync() ?? Dns.GetHostName();
        var addresses = await Dns.GetHostAddressesAsync(name, Ct);
        Assert.NotEmpty(addresses);
        var ns = await world.NamespaceAsync();

        var refused = await Assert.ThrowsAsync<BerthProblemException>(() => world.Server.Client.CreateWebhookAsync(ns, new CreateWebhookRequest($"http://{name}:9/hook", Secret), Ct));
        Assert.Equal("forbidden_address", refused.Code);
        Assert.Contains("resolves to an address webhooks may not call", refused.Message, StringComparison.Ordinal);
        Assert.All(addresses, a => Assert.DoesNotContain(a.ToString(), refused.Message, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PublicAddressesAreAllowed()
    {
        var ns = await world.NamespaceAsync();
        foreach (var url in new[] { PublicUrl, "http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/hook", "https://[64:ff9b::5db8:d70e]/hook", "http://[2002:5db8:d70e::1]/hook" })
        {
            Assert.True((await world.Server.Client.CreateWebhookAsync(ns, new CreateWebhookRequest(url, Secret), Ct)).Enabled);
        }
    }

    [Fact]
    public async Task AWebhookSavedWhileAllowedIsRefusedAtEveryDeliveryOnceTheRulesForbidIt()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var port = new Uri(receiver.Url).Port;
        string[] fast = [.. WebhookTests.Settings.Where(s => !s.StartsWith("--Webhooks:AllowedNetworks", StringComparison.Ordinal))];
        var server = await TestServer.StartAsync([.. fast, "--Webhooks:AllowedNetworks:0=127.0.0.0/8", "--Webhooks:AllowedNetworks:1=::1/128"]);
        try
        {
            await server.CreateNamespaceAsync("rebind");
            await server.Client.CreateModelAsync("rebind", new CreateModelRequest("fraud"), Ct);
            string[] spellings = ["127.0.0.1", "0x7f000001", "2130706433", "0177.0.0.1", "127.1", "127.0.0.1.", "[::ffff:127.0.0.1]", "localhost", "[::1]"];
            var hooks = new List<WebhookInfo>();
            foreach (var host in spellings)
            {
                hooks.Add(await server.Client.CreateWebhookAsync("rebind", new CreateWebhookRequest($"http://{host}:{port}/hooks/berth", Secret, [EventTypes.ModelUpdated]), Ct));
            }

            // Allowed, they are delivered to.
            var ping = await server.Client.TestWebhookAsync(hooks[0].Id, Ct);
            Assert.Equal(DeliveryStates.Succeeded, ping.State);
            Assert.Single(receiver.Calls);

            // The operator takes the permission back: every spelling is refused when it is called, before connecting.
            server = await server.RestartAsync(null, fast);
            using var nsAdmin = await server.AddUserAsync("nina", "rebind", Roles.Admin);
            await server.Client.UpdateModelAsync("rebind", "fraud", new UpdateModelRequest(Description: "changed"), cancellationToken: Ct);
            foreach (var hook in hooks)
            {
                var delivery = await Eventually.WaitForAsync(
                    async () => (await server.Client.ListDeliveriesAsync(hook.Id, cancellationToken: Ct).ToListAsync(Ct)).FirstOrDefault(d => d.EventType == EventTypes.ModelUpdated && d.AttemptCount > 0),
                    d => d is not null);
                var attempt = (await server.Client.GetDeliveryAsync(delivery!.Id, Ct)).Attempts![0];
                Assert.Equal(((int?)null, DeliveryErrors.AddressRefused), (attempt.Status, attempt.Error));
                Assert.Contains("which webhooks may not call", attempt.Detail, StringComparison.Ordinal);

                var test = await nsAdmin.Client.TestWebhookAsync(hook.Id, Ct);
                var tested = Assert.Single(test.Attempts!);
                Assert.Equal((DeliveryStates.Failed, (int?)null, DeliveryErrors.AddressRefused), (test.State, tested.Status, tested.Error));
                Assert.Equal(((string?)null, (string?)null), (tested.Detail, tested.Response));
            }

            Assert.Single(receiver.Calls);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    /// <summary>A host name (not under localhost) that /etc/hosts maps to loopback and that resolves to loopback addresses only.</summary>
    private static async Task<string?> LoopbackNameAsync()
    {
        if (!File.Exists("/etc/hosts"))
        {
            return null;
        }

        var names = (await File.ReadAllLinesAsync("/etc/hosts", Ct))
            .Select(line => line.Split('#')[0].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields.Length > 1 && IPAddress.TryParse(fields[0], out var address) && IPAddress.IsLoopback(address))
            .SelectMany(fields => fields.Skip(1))
            .Where(n => !n.Equals("localhost", StringComparison.OrdinalIgnoreCase) && !n.EndsWith(".localhost", StringComparison.OrdinalIgnoreCase) && n != Dns.GetHostName());
        foreach (var candidate in names)
        {
            try
            {
                if (await Dns.GetHostAddressesAsync(candidate, Ct) is { Length: > 0 } resolved && resolved.All(IPAddress.IsLoopback))
                {
                    return candidate;
                }
            }
            catch (System.Net.Sockets.SocketException)
            {
                // Listed but not resolvable through the system resolver: try the next.
            }
        }

        return null;
    }
}
