using System.Net.Http.Headers;
using Berth.Client;
using Berth.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests.Support;

/// <summary>
/// A real Berth server on Kestrel (127.0.0.1, a free port) over a fresh data folder and a fresh database
/// (<see cref="TestDatabase"/>: SQLite, or PostgreSQL when the tests run on it), started the way 'berth serve'
/// starts it. Gives an SDK client and raw HTTP clients with and without the admin token.
/// </summary>
public sealed class TestServer : IAsyncDisposable
{
    private bool _ownsData;
    private bool _ownsDatabase;

    private TestServer(WebApplication app, string data, TestDatabase database, Uri address, string token, bool ownsData, bool ownsDatabase)
    {
        _ownsData = ownsData;
        _ownsDatabase = ownsDatabase;
        App = app;
        DataDirectory = data;
        Database = database;
        Address = address;
        AdminToken = token;
        Client = NewClient(token);
        Http = NewHttp(token);
        Anonymous = NewHttp(null);
    }

    public WebApplication App { get; }
    public string DataDirectory { get; }
    public TestDatabase Database { get; }
    public Uri Address { get; }
    public string AdminToken { get; }
    public BerthClient Client { get; }
    public HttpClient Http { get; }
    public HttpClient Anonymous { get; }

    public IServiceProvider Services => App.Services;

    public static Task<TestServer> StartAsync(params string[] extraArgs) => StartAsync(null, extraArgs);

    public static Task<TestServer> StartAsync(Action<IServiceCollection>? services, params string[] extraArgs) =>
        StartAsync(services, null, extraArgs);

    /// <summary>A second replica: another server over the same data folder and database, which it leaves in place.</summary>
    public static Task<TestServer> StartReplicaAsync(TestServer first, params string[] extraArgs) =>
        StartAsync(null, first, null, extraArgs);

    /// <summary>A server whose data folder is <paramref name="data"/> (it may not exist yet), which it owns (and deletes).</summary>
    public static Task<TestServer> StartInAsync(string data, Action<IServiceCollection>? services, params string[] extraArgs) =>
        StartAsync(services, null, null, extraArgs, data);

    /// <summary>A server on a database the caller owns (and disposes), e.g. on a PostgreSQL server of the test's own.</summary>
    public static Task<TestServer> StartOnAsync(TestDatabase database, params string[] extraArgs) =>
        StartAsync(null, null, database, extraArgs);

    /// <summary>A replica with services of its own (a shared clock, say).</summary>
    public static Task<TestServer> StartReplicaAsync(TestServer first, Action<IServiceCollection>? services, params string[] extraArgs) =>
        StartAsync(services, first, null, extraArgs);

    /// <summary>
    /// Stops this server and starts another on its data folder and database, with <paramref name="extraArgs"/> instead of
    /// this one's; the new server owns (and disposes) what this one owned.
    /// </summary>
    public Task<TestServer> RestartAsync(Action<IServiceCollection>? services, params string[] extraArgs) => RestartAsync(services, null, extraArgs);

    /// <summary>As <see cref="RestartAsync(Action{IServiceCollection}?, string[])"/>, doing <paramref name="whileStopped"/> between the two.</summary>
    public async Task<TestServer> RestartAsync(Action<IServiceCollection>? services, Func<Task>? whileStopped, params string[] extraArgs)
    {
        var (ownsData, ownsDatabase) = (_ownsData, _ownsDatabase);
        (_ownsData, _ownsDatabase) = (false, false);
        await DisposeAsync();
        if (whileStopped is not null)
        {
            await whileStopped();
        }

        var restarted = await StartAsync(services, this, null, extraArgs);
        (restarted._ownsData, restarted._ownsDatabase) = (ownsData, ownsDatabase);
        return restarted;
    }

    private static Task<TestServer> StartAsync(Action<IServiceCollection>? services, TestServer? first, string[] extraArgs) =>
        StartAsync(services, first, null, extraArgs);

    private static async Task<TestServer> StartAsync(Action<IServiceCollection>? services, TestServer? first, TestDatabase? given, string[] extraArgs, string? folder = null)
    {
        var data = first?.DataDirectory ?? folder ?? TempFolder.Create("berth-server");
        var database = first?.Database ?? given ?? await TestDatabase.CreateAsync(data, CancellationToken.None);
        // The OCI manifests of ready versions are built when first pulled, not in the background, unless a test asks for
        // it (--Oci:BuildInBackground=true, which wins as the later argument): their config blobs would race every count
        // of blobs, bytes, scrubs and collections.
        string[] args = ["--data", data, "--urls", "http://127.0.0.1:0", .. database.ServerArgs, "--Oci:BuildInBackground=false", .. extraArgs];
        var app = BerthServer.Build(args, services: services);
        await BerthServer.StartAsync(app);
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        var token = (await File.ReadAllTextAsync(Path.Combine(data, ServerSettings.AdminTokenFile))).Trim();
        return new TestServer(app, data, database, address, token, ownsData: first is null, ownsDatabase: first is null && given is null);
    }

    public BerthClient NewClient(string? token) => new(new BerthClientOptions { BaseUri = Address, Token = token });

    public HttpClient NewHttp(string? token)
    {
        var http = new HttpClient { BaseAddress = Address };
        if (token is not null)
        {
            http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }

        return http;
    }

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        Http.Dispose();
        Anonymous.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
        if (_ownsDatabase)
        {
            await Database.DisposeAsync();
        }

        if (_ownsData)
        {
            TempFolder.Delete(DataDirectory);
        }
    }
}
