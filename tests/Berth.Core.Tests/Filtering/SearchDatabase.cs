using System.Security.Cryptography;
using System.Text;
using Berth.Contracts.Dtos;
using Berth.Core.Auth;
using Berth.Core.Common;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Data.Entities;
using Berth.Core.Registry;
using Berth.Core.Tests.Data;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Core.Tests.Filtering;

/// <summary>
/// A registry on the test database (SQLite in a temporary folder, or PostgreSQL), seeded once with versions
/// that exercise every filter field.
/// Ready versions of live models (ids in brackets):
/// <code>
/// ref                      created     semver      stage        metrics                  params          tags                                          aliases
/// acme/fraud-detector:1 [1] 2026-01-01  1.0.0       archived     auc .85, val/loss .3     optimizer sgd   team risk
/// acme/fraud-detector:2 [2] 2026-01-05  1.1.0       staging      auc .91, val/loss .2     optimizer adam  team risk, validated true, mlflow.source x    candidate
/// acme/fraud-detector:3 [3] 2026-01-10  2.0.0-rc.1  production   auc .95                  optimizer Adam  team Risk                                     champion
/// acme/churn:1          [6] 2026-01-05  -           -            auc .70                  optimizer adam  team growth, note "50% off"
/// acme/churn:2          [7] 2026-02-01  0.2.0       development  -                        -               place "Ça\"
/// risk/fraud-scorer:1   [8] 2026-01-20  1.0.0       production   auc .91, f1 .5           optimizer adam  team risk, note "50%_off"                     champion
/// </code>
/// Hidden from search: acme/fraud-detector:4 [4] (pending) and :5 [5] (deleted), acme/retired:1 [9] (model
/// deleted), gone/thing:1 [10] (namespace deleted); all of them have auc .99.
/// </summary>
public sealed class SearchDatabase : IAsyncLifetime
{
    public const string A1 = "acme/fraud-detector:1";
    public const string A2 = "acme/fraud-detector:2";
    public const string A3 = "acme/fraud-detector:3";
    public const string C1 = "acme/churn:1";
    public const string C2 = "acme/churn:2";
    public const string R1 = "risk/fraud-scorer:1";

    public static readonly IReadOnlyList<string> AllVisible = [A1, A2, A3, C1, C2, R1];

    private readonly string _directory = Path.Combine(Path.GetTempPath(), "berth-search-" + Guid.NewGuid().ToString("N"));
    private ServiceProvider? _services;
    private TestDatabase? _database;

    public static Actor Admin { get; } = new(1, "admin", true, null, TokenScopes.All);

    public IServiceProvider Services => _services ?? throw new InvalidOperationException("The database is not initialised.");

    public static string DigestOf(string reference) =>
        "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(reference)));

    public async ValueTask InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        _database = await TestDatabase.CreateAsync(_directory, TestContext.Current.CancellationToken);
        var services = new ServiceCollection();
        services.AddTestRegistry(_database, _directory);
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton(Options.Create(new RegistryOptions()));
        services.AddScoped<AccessControl>();
        services.AddOptions<SearchOptions>();
        services.AddScoped<SparseMatches>();
        services.AddScoped<SearchService>();
        _services = services.BuildServiceProvider();

        await using var scope = _services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        await db.MigrateTestRegistryAsync(TestContext.Current.CancellationToken);
        Seed(db);
        await db.SaveChangesAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_services is not null)
        {
            await _services.DisposeAsync();
        }

        SqliteConnection.ClearAllPools();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A leftover temporary folder is harmless.
        }
    }

    /// <summary>Runs a search in a fresh scope (its own DbContext), as one HTTP request would.</summary>
    /// <remarks><paramref name="sparseBound"/>: <see cref="SearchOptions.SparseBound"/> (0: every search that matches anything walks).</remarks>
    public async Task<Page<VersionInfo>> SearchAsync(string? filter, string? sort = null, int? limit = null, string? cursor = null, Actor? actor = null, RegistryOptions? options = null, int? sparseBound = null)
    {
        await using var scope = Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var sparse = sparseBound is { } bound
            ? new SparseMatches(db, Options.Create(new SearchOptions { SparseBound = bound }))
            : scope.ServiceProvider.GetRequiredService<SparseMatches>();
        var service = options is null && sparseBound is null
            ? scope.ServiceProvider.GetRequiredService<SearchService>()
            : new SearchService(db, new AccessControl(db, Options.Create(options ?? new RegistryOptions())), sparse);
        return await service.SearchAsync(actor ?? Admin, filter, sort, new Paging(limit ?? Paging.MaxLimit, cursor), TestContext.Current.CancellationToken);
    }

    /// <summary>Every page of a search, following cursors until the end.</summary>
    public async Task<List<Page<VersionInfo>>> AllPagesAsync(string? filter, string? sort, int limit)
    {
        var pages = new List<Page<VersionInfo>>();
        string? cursor = null;
        do
        {
            var page = await SearchAsync(filter, sort, limit, cursor);
            pages.Add(page);
            cursor = page.NextCursor;
            Assert.True(pages.Count <= 100, "Paging does not come to an end.");
        }
        while (cursor is not null);

        return pages;
    }

    private static void Seed(RegistryDbContext db)
    {
        var created = new DateTime(2025, 12, 1, 0, 0, 0, DateTimeKind.Utc);
        var admin = new User { Id = 1, Name = "admin", IsAdmin = true, CreatedAt = created };
        db.Users.Add(admin);

        var acme = new RegistryNamespace { Id = 1, Name = "acme", CreatedAt = created, CreatedById = 1 };
        var risk = new RegistryNamespace { Id = 2, Name = "risk", CreatedAt = created, CreatedById = 1 };
        var gone = new RegistryNamespace { Id = 3, Name = "gone", CreatedAt = created, CreatedById = 1, DeletedAt = created.AddDays(1) };
        db.Users.Add(new User { Id = 2, Name = "outsider", CreatedAt = created });
        db.Users.Add(new User { Id = 3, Name = "risk-reader", CreatedAt = created });
        db.NamespaceMembers.Add(new NamespaceMember { NamespaceId = 2, UserId = 3, Role = NamespaceRole.Reader, GrantedAt = created, GrantedById = 1 });
        db.Namespaces.AddRange(acme, risk, gone);

        var fraud = Model(1, acme, "fraud-detector");
        var churn = Model(2, acme, "churn");
        var scorer = Model(3, risk, "fraud-scorer");
        var retired = Model(4, acme, "retired");
        retired.DeletedAt = created.AddDays(2);
        var thing = Model(5, gone, "thing");
        db.Models.AddRange(fraud, churn, scorer, retired, thing);

        Add(1, fraud, 1, "2026-01-01", "1.0.0", "archived",
            metrics: [("auc", 0.85), ("val/loss", 0.3)], parameters: [("optimizer", "sgd")], tags: [("team", "risk")]);
        Add(2, fraud, 2, "2026-01-05", "1.1.0", "staging",
            metrics: [("auc", 0.91), ("val/loss", 0.2)], parameters: [("optimizer", "adam")],
            tags: [("team", "risk"), ("validated", "true"), ("mlflow.source", "x")], aliases: ["candidate"]);
        Add(3, fraud, 3, "2026-01-10", "2.0.0-rc.1", "production",
            metrics: [("auc", 0.95)], parameters: [("optimizer", "Adam")], tags: [("team", "Risk")], aliases: ["champion"]);
        Add(4, fraud, 4, "2026-01-11", null, null, metrics: [("auc", 0.99)], tags: [("team", "risk")], state: VersionState.Pending);
        Add(5, fraud, 5, "2026-01-12", null, null, metrics: [("auc", 0.99)], tags: [("team", "risk")], state: VersionState.Deleted);
        Add(6, churn, 1, "2026-01-05", null, null,
            metrics: [("auc", 0.70)], parameters: [("optimizer", "adam")], tags: [("team", "growth"), ("note", "50% off")]);
        Add(7, churn, 2, "2026-02-01", "0.2.0", "development", tags: [("place", "\u00C7a\\")]);
        Add(8, scorer, 1, "2026-01-20", "1.0.0", "production",
            metrics: [("auc", 0.91), ("f1", 0.5)], parameters: [("optimizer", "adam")], tags: [("team", "risk"), ("note", "50%_off")], aliases: ["champion"]);
        Add(9, retired, 1, "2026-01-15", null, null, metrics: [("auc", 0.99)], tags: [("team", "risk")]);
        Add(10, thing, 1, "2026-01-15", null, null, metrics: [("auc", 0.99)], tags: [("team", "risk")]);

        RegisteredModel Model(long id, RegistryNamespace ns, string name) =>
            new() { Id = id, Namespace = ns, Name = name, CreatedAt = created, UpdatedAt = created, Revision = 1 };

        void Add(
            long id,
            RegisteredModel model,
            int number,
            string day,
            string? semver,
            string? stage,
            (string Name, double Value)[]? metrics = null,
            (string Name, string Value)[]? parameters = null,
            (string Key, string Value)[]? tags = null,
            string[]? aliases = null,
            VersionState state = VersionState.Ready)
        {
            var at = DateTime.SpecifyKind(DateTime.Parse(day, System.Globalization.CultureInfo.InvariantCulture), DateTimeKind.Utc);
            var reference = $"{model.Namespace.Name}/{model.Name}:{number}";
            var version = new ModelVersion
            {
                Id = id,
                Model = model,
                Number = number,
                SemVer = semver,
                ManifestDigest = DigestOf(reference),
                Manifest = Encoding.UTF8.GetBytes("[]"),
                State = state,
                Stage = stage,
                StageChangedAt = stage is null ? null : at,
                CreatedAt = at,
                CreatedById = 1,
                ReadyAt = state == VersionState.Ready ? at : null,
                Revision = 1,
                TotalSize = id * 1000,
                FileCount = number,
                Metrics = (metrics ?? []).Select(m => new VersionMetric { Name = m.Name, Value = m.Value }).ToList(),
                Params = (parameters ?? []).Select(p => new VersionParam { Name = p.Name, Value = p.Value }).ToList(),
                Tags = (tags ?? []).Select(t => new VersionTag { Key = t.Key, Value = t.Value }).ToList(),
            };
            model.LastVersionNumber = Math.Max(model.LastVersionNumber, number);
            db.Versions.Add(version);
            foreach (var alias in aliases ?? [])
            {
                db.Aliases.Add(new ModelAlias { ModelId = model.Id, Name = alias, Version = version, UpdatedAt = at, UpdatedById = 1, Revision = 1 });
            }
        }
    }
}
