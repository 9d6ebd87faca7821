using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Berth.Api.Tests.Support;
using Berth.Client;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Contracts.Webhooks;
using Berth.Server.Hosting;
using Berth.Server.Hosting.Secrets;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Berth.Api.Tests;

/// <summary>
/// Secrets at rest: the data folder and every file the server writes are private to its user (and made so at start-up,
/// with one warning, when they are not); webhook secrets are encrypted with the data-protection keys, which are
/// encrypted with a key file outside the database: a copy of the database alone reveals no secret, a replica given the
/// same key file signs like the first, and a server without it refuses to start.
/// </summary>
public sealed class SecretsAtRestTests
{
    private const string Secret = "a-distinctive-webhook-secret-8d1f";
    private const string Allow = "--Webhooks:AllowedNetworks:0=127.0.0.1/32";
    private const string KeyFileName = KeyProtectionOptions.DefaultKeyFileName;
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task AFirstStartCreatesTheDataFolderAndEveryFilePrivate()
    {
        var logs = new CapturingLoggerProvider();
        var data = Path.Combine(TempFolder.Create("berth-private"), "data"); // not there yet: the server creates it
        await using var server = await TestServer.StartInAsync(data, Capture(logs), Allow);
        await server.PushSmallAsync("perm", "fraud");
        await server.Client.CreateWebhookAsync("perm", new CreateWebhookRequest("http://127.0.0.1:9/hook", Secret), Ct);
        using (var started = await server.Http.PostAsync("/api/v1/models/perm/fraud/uploads", null, Ct))
        {
            // An upload in progress, with bytes.
            var location = started.Headers.Location!.ToString();
            using var chunk = new HttpRequestMessage(HttpMethod.Patch, location) { Content = new ByteArrayContent(new byte[1000]) };
            chunk.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            chunk.Headers.Add("Upload-Offset", "0");
            (await server.Http.SendAsync(chunk, Ct)).EnsureSuccessStatusCode();
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(data));
        var files = Directory.EnumerateFiles(data, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(data, f)).ToList();
        Assert.Contains("admin-token", files);
        Assert.Contains(KeyFileName, files);
        Assert.Contains(files, f => f.StartsWith(Path.Combine("store", "blobs", "sha256"), StringComparison.Ordinal));
        Assert.Contains(files, f => f.StartsWith(Path.Combine("store", "uploads"), StringComparison.Ordinal));
        if (!TestDatabase.IsPostgres)
        {
            Assert.Contains("berth.db", files);
            Assert.Contains("berth.db-wal", files);
        }

        Assert.Empty(Loose(data));
        Assert.DoesNotContain(logs.Lines, l => l.Contains("Other local users", StringComparison.Ordinal));
    }

    [Fact]
    public async Task LooseModesAreMadePrivateAtStartUpWithOneWarning()
    {
        var server = await TestServer.StartAsync(Allow);
        var logs = new CapturingLoggerProvider();
        try
        {
            await server.PushSmallAsync("loose", "fraud");
            var data = server.DataDirectory;
            server = await server.RestartAsync(Capture(logs), () =>
            {
                // As an older Berth (or a careless copy) left them: readable by everyone.
                File.SetUnixFileMode(data, (UnixFileMode)0b111_101_101);
                foreach (var path in Directory.EnumerateFileSystemEntries(data, "*", SearchOption.AllDirectories))
                {
                    File.SetUnixFileMode(path, Directory.Exists(path) ? (UnixFileMode)0b111_101_101 : (UnixFileMode)0b110_100_100);
                }

                Assert.NotEmpty(Loose(data));
                return Task.CompletedTask;
            }, Allow);

            Assert.Empty(Loose(data));
            var warning = Assert.Single(logs.Lines, l => l.Contains("Other local users could read", StringComparison.Ordinal));
            Assert.Contains("admin-token", warning, StringComparison.Ordinal);
            Assert.Contains(TestDatabase.IsPostgres ? KeyFileName : "berth.db", warning, StringComparison.Ordinal);

            // Once private, a start has nothing to say.
            var quiet = new CapturingLoggerProvider();
            server = await server.RestartAsync(Capture(quiet), Allow);
            Assert.DoesNotContain(quiet.Lines, l => l.Contains("Other local users", StringComparison.Ordinal));
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task WebhookSecretsAndTheKeysThatEncryptThemAreNotInTheDatabaseInPlainText()
    {
        await using var server = await TestServer.StartAsync(Allow);
        await using var receiver = await WebhookReceiver.StartAsync();
        await server.CreateNamespaceAsync("vault");
        var hook = await server.Client.CreateWebhookAsync("vault", new CreateWebhookRequest(receiver.Url, Secret), Ct);
        await server.Client.UpdateWebhookAsync(hook.Id, new UpdateWebhookRequest(Secret: Secret + "-rotated"), Ct);
        await AssertSignedAsync(server.Client, receiver, hook.Id, Secret + "-rotated");

        Assert.Equal(0L, Count(await server.Database.ScalarAsync("SELECT count(*) FROM webhooks WHERE secret IS NOT NULL", Ct)));
        var stored = (string)await server.Database.ScalarAsync("SELECT protected_secret FROM webhooks WHERE id = @id", Ct, ("id", hook.Id));
        Assert.DoesNotContain(Secret, stored, StringComparison.Ordinal);

        // Every data-protection key is encrypted with the key file of the data folder (named by its fingerprint).
        var keyFileId = KeyFile.Fingerprint(Convert.FromBase64String(await File.ReadAllTextAsync(Path.Combine(server.DataDirectory, KeyFileName), Ct)));
        var keys = await KeysAsync(server.Database);
        Assert.NotEmpty(keys);
        Assert.All(keys, xml =>
        {
            Assert.Contains($"keyFile=\"{keyFileId}\"", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("requiresEncryption", xml, StringComparison.Ordinal);
            Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal);
        });

        if (!TestDatabase.IsPostgres)
        {
            // Nor anywhere in SQLite's files, old pages and WAL included.
            foreach (var file in Directory.GetFiles(server.DataDirectory, "berth.db*"))
            {
                Assert.False(Contains(await File.ReadAllBytesAsync(file, Ct), Encoding.UTF8.GetBytes(Secret)), $"{file} holds the secret in plain text");
            }
        }
    }

    [Fact]
    public async Task DeliveriesAreSignedAfterARestartAndByAReplicaGivenTheSameKey()
    {
        var keyFile = Path.Combine(TempFolder.Create("berth-key"), "key");
        var keyFileArg = "--DataProtection:KeyFile=" + keyFile;
        var server = await TestServer.StartAsync(Allow, keyFileArg);
        try
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
            Assert.False(File.Exists(Path.Combine(server.DataDirectory, KeyFileName)));
            await using var receiver = await WebhookReceiver.StartAsync();
            await server.CreateNamespaceAsync("signed");
            var hook = await server.Client.CreateWebhookAsync("signed", new CreateWebhookRequest(receiver.Url, Secret), Ct);
            await AssertSignedAsync(server.Client, receiver, hook.Id, Secret);

            server = await server.RestartAsync(null, Allow, keyFileArg);
            await AssertSignedAsync(server.Client, receiver, hook.Id, Secret);

            // A replica with a data folder of its own (on SQLite the database lives in the folder, so it is shared),
            // given the same key as a setting's value (as from an orchestrator's secret) rather than as a file.
            var replicaData = TestDatabase.IsPostgres ? TempFolder.Create("berth-replica") : server.DataDirectory;
            var inlineKey = "--DataProtection:Key=" + (await File.ReadAllTextAsync(keyFile, Ct)).Trim();
            await using var replica = BerthServer.Build(["--data", replicaData, "--urls", "http://127.0.0.1:0", .. server.Database.ServerArgs, Allow, inlineKey]);
            await BerthServer.StartAsync(replica, Ct);
            using var client = new BerthClient(new BerthClientOptions { BaseUri = Address(replica), Token = server.AdminToken });
            await AssertSignedAsync(client, receiver, hook.Id, Secret);
            await replica.StopAsync(Ct);
            if (TestDatabase.IsPostgres)
            {
                TempFolder.Delete(replicaData);
            }
        }
        finally
        {
            await server.DisposeAsync();
            TempFolder.Delete(Path.GetDirectoryName(keyFile)!);
        }
    }

    [Fact]
    public async Task AServerWithoutTheKeyFileOfItsKeysRefusesToStartAndSaysWhy()
    {
        var server = await TestServer.StartAsync(Allow);
        try
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            await server.CreateNamespaceAsync("keyless");
            var hook = await server.Client.CreateWebhookAsync("keyless", new CreateWebhookRequest(receiver.Url, Secret), Ct);
            var data = server.DataDirectory;
            var database = server.Database;
            var keyPath = Path.Combine(data, KeyFileName);
            server = await server.RestartAsync(null, async () =>
            {
                File.Move(keyPath, keyPath + ".elsewhere");
                var missing = await StartFailsAsync(data, database);
                Assert.Contains($"'{keyPath}' does not exist", missing.Message, StringComparison.Ordinal);
                Assert.Contains("the data-protection keys in the database are encrypted with key file", missing.Message, StringComparison.Ordinal);
                Assert.False(File.Exists(keyPath)); // not replaced by a new one

                await File.WriteAllTextAsync(keyPath, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)), Ct);
                var wrong = await StartFailsAsync(data, database);
                Assert.Contains("cannot decrypt", wrong.Message, StringComparison.Ordinal);
                Assert.Contains("but this server's key file", wrong.Message, StringComparison.Ordinal);

                File.Move(keyPath + ".elsewhere", keyPath, overwrite: true);
            }, Allow);

            await AssertSignedAsync(server.Client, receiver, hook.Id, Secret);
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    [Fact]
    public async Task TheKeysCanBeEncryptedWithACertificateInstead()
    {
        var folder = TempFolder.Create("berth-certificate");
        var pfx = Path.Combine(folder, "keys.pfx");
        using (var rsa = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=berth-data-protection", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "pfx-password"), Ct);
        }

        string[] withCertificate = [Allow, "--DataProtection:CertificateFile=" + pfx, "--DataProtection:CertificatePassword=pfx-password"];
        var server = await TestServer.StartAsync(withCertificate);
        try
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            await server.CreateNamespaceAsync("certified");
            var hook = await server.Client.CreateWebhookAsync("certified", new CreateWebhookRequest(receiver.Url, Secret), Ct);
            await AssertSignedAsync(server.Client, receiver, hook.Id, Secret);
            Assert.False(File.Exists(Path.Combine(server.DataDirectory, KeyFileName)));
            Assert.All(await KeysAsync(server.Database), xml =>
            {
                Assert.Contains("EncryptedXmlDecryptor", xml, StringComparison.Ordinal);
                Assert.DoesNotContain("requiresEncryption", xml, StringComparison.Ordinal);
            });

            // Without the certificate the keys cannot be read: the server says so and creates nothing.
            var data = server.DataDirectory;
            var database = server.Database;
            server = await server.RestartAsync(null, async () =>
            {
                var refused = await StartFailsAsync(data, database);
                Assert.Contains("cannot decrypt", refused.Message, StringComparison.Ordinal);
                Assert.False(File.Exists(Path.Combine(data, KeyFileName)));
            }, withCertificate);
            await AssertSignedAsync(server.Client, receiver, hook.Id, Secret);
        }
        finally
        {
            await server.DisposeAsync();
            TempFolder.Delete(folder);
        }
    }

    [Fact]
    public async Task AnOlderDatabaseHasItsPlainSecretsAndKeysEncryptedAtStartUp()
    {
        const string Plain = "a-plain-secret-left-by-an-older-berth";
        var server = await TestServer.StartAsync(Allow);
        var logs = new CapturingLoggerProvider();
        try
        {
            await using var receiver = await WebhookReceiver.StartAsync();
            await server.CreateNamespaceAsync("legacy");
            var hook = await server.Client.CreateWebhookAsync("legacy", new CreateWebhookRequest(receiver.Url, Secret), Ct);
            var database = server.Database;
            var (legacyKey, payload) = LegacyKey();
            server = await server.RestartAsync(Capture(logs), async () =>
            {
                // What an older Berth stored: the secret as given, and a data-protection key unencrypted.
                await database.ExecuteAsync("UPDATE webhooks SET secret = @secret, protected_secret = NULL WHERE id = @id", Ct, ("secret", Plain), ("id", hook.Id));
                await database.ExecuteAsync("INSERT INTO data_protection_keys (friendly_name, xml) VALUES ('legacy', @xml)", Ct, ("xml", legacyKey));
            }, Allow);

            Assert.Contains(logs.Lines, l => l.Contains("Encrypted 1 data-protection keys that were stored in plain text", StringComparison.Ordinal));
            Assert.Contains(logs.Lines, l => l.Contains("Encrypted 1 webhook secrets that were stored in plain text", StringComparison.Ordinal));
            Assert.Equal(0L, Count(await server.Database.ScalarAsync("SELECT count(*) FROM webhooks WHERE secret IS NOT NULL", Ct)));
            Assert.All(await KeysAsync(server.Database), xml => Assert.DoesNotContain("requiresEncryption", xml, StringComparison.Ordinal));

            // The old key still decrypts what it protected, and the secret still signs.
            Assert.Equal("protected long ago", server.Services.GetRequiredService<IDataProtectionProvider>().CreateProtector("legacy-test").Unprotect(payload));
            await AssertSignedAsync(server.Client, receiver, hook.Id, Plain);
            if (!TestDatabase.IsPostgres)
            {
                foreach (var file in Directory.GetFiles(server.DataDirectory, "berth.db*"))
                {
                    Assert.False(Contains(await File.ReadAllBytesAsync(file, Ct), Encoding.UTF8.GetBytes(Plain)), $"{file} still holds the old secret");
                }
            }
        }
        finally
        {
            await server.DisposeAsync();
        }
    }

    private static Action<IServiceCollection> Capture(CapturingLoggerProvider logs) =>
        services => services.AddLogging(b => b.AddProvider(logs).AddFilter<CapturingLoggerProvider>(null, LogLevel.Trace));

    /// <summary>Files and folders group or others may use.</summary>
    private static List<string> Loose(string data) =>
        [.. new[] { data }.Concat(Directory.EnumerateFileSystemEntries(data, "*", SearchOption.AllDirectories))
            .Where(p => (File.GetUnixFileMode(p) & (UnixFileMode)0b000_111_111) != 0)
            .Select(p => $"{Path.GetRelativePath(data, p)} ({Convert.ToString((int)File.GetUnixFileMode(p), 8)})")];

    private static async Task AssertSignedAsync(BerthClient client, WebhookReceiver receiver, long hookId, string secret)
    {
        var calls = receiver.Calls.Count;
        var ping = await client.TestWebhookAsync(hookId, Ct);
        Assert.Equal(DeliveryStates.Succeeded, ping.State);
        var call = receiver.Calls[calls];
        Assert.True(WebhookSignature.Verify(secret, call.Header(WebhookSignature.Header), call.Body), "the call is not signed with the webhook's secret");
    }

    private static async Task<StartupException> StartFailsAsync(string data, TestDatabase database)
    {
        await using var app = BerthServer.Build(["--data", data, "--urls", "http://127.0.0.1:0", .. database.ServerArgs]);
        return await Assert.ThrowsAsync<StartupException>(() => BerthServer.StartAsync(app, Ct));
    }

    /// <summary>A data-protection key as ASP.NET Core stores it without an encryptor, and a payload it protected.</summary>
    private static (string Xml, string Payload) LegacyKey()
    {
        var folder = TempFolder.Create("berth-legacy-keys");
        try
        {
            var services = new ServiceCollection();
            services.AddDataProtection().SetApplicationName("berth").PersistKeysToFileSystem(new DirectoryInfo(folder));
            using var provider = services.BuildServiceProvider();
            var payload = provider.GetDataProtector("legacy-test").Protect("protected long ago");
            // As the database's repository stores it: the element alone, without the file's XML declaration.
            var xml = System.Xml.Linq.XElement.Parse(File.ReadAllText(Directory.GetFiles(folder, "key-*.xml").Single())).ToString(System.Xml.Linq.SaveOptions.DisableFormatting);
            Assert.Contains("requiresEncryption", xml, StringComparison.Ordinal);
            return (xml, payload);
        }
        finally
        {
            TempFolder.Delete(folder);
        }
    }

    private static async Task<List<string>> KeysAsync(TestDatabase database)
    {
        await using var connection = database.CreateConnection();
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT xml FROM data_protection_keys";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var keys = new List<string>();
        while (await reader.ReadAsync(Ct))
        {
            keys.Add(reader.GetString(0));
        }

        return keys;
    }

    private static Uri Address(Microsoft.AspNetCore.Builder.WebApplication app) =>
        new(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());

    private static long Count(object value) => Convert.ToInt64(value, System.Globalization.CultureInfo.InvariantCulture);

    private static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;
}
