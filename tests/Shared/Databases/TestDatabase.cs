using System.Data.Common;
using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Berth.Testing;

/// <summary>
/// The metadata database of one test server. By default SQLite, in the server's data folder, as
/// <c>berth serve</c> uses it. When <see cref="Variable"/> holds a connection string for a PostgreSQL
/// server (<c>scripts/test.sh</c> starts one and runs every test project again with it), each test server
/// gets a database of its own on that server, dropped when the test is done.
/// <para>
/// Either way a new database is a copy of one this test process migrated once (<see cref="Migrator"/>), so a test
/// server does not replay every migration at start (about half of its start-up). Projects that cannot migrate
/// leave <see cref="Migrator"/> unset and their servers migrate empty databases. Starting on an empty database is
/// still tested: <see cref="Sqlite"/>, <see cref="CreateOnAsync"/> and the release binary's tests give one.
/// </para>
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    /// <summary>A connection string for a PostgreSQL server and a role that may create databases.</summary>
    public const string Variable = "BERTH_TEST_POSTGRES";

    private static readonly string? Server = Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } value ? value : null;

    private readonly string? _postgresName;
    private readonly string? _postgresServer;

    private TestDatabase(string connectionString, string? postgresName, string? postgresServer)
    {
        ConnectionString = connectionString;
        _postgresName = postgresName;
        _postgresServer = postgresServer;
    }

    /// <summary>True when the tests run on PostgreSQL.</summary>
    public static bool IsPostgres => Server is not null;

    /// <summary>Where the server keeps its metadata (a file in the data folder, or a PostgreSQL database).</summary>
    public string ConnectionString { get; }

    /// <summary>What to add to <c>berth serve</c>'s arguments: <c>--db</c> on PostgreSQL, nothing on SQLite.</summary>
    public IReadOnlyList<string> ServerArgs => _postgresName is null ? [] : ["--db", ConnectionString];

    /// <summary>
    /// Brings an empty database up to date, as <c>berth serve</c> does at start: its connection string (pooling off),
    /// and whether it is PostgreSQL. Set once by a test project that references the data providers; null otherwise.
    /// </summary>
    public static Func<string, bool, CancellationToken, Task>? Migrator { get; set; }

    private static readonly SemaphoreSlim TemplateLock = new(1, 1);
    private static string? _template;

    /// <summary>A database for a server whose data folder is <paramref name="dataDirectory"/>, migrated when it can be.</summary>
    public static async Task<TestDatabase> CreateAsync(string dataDirectory, CancellationToken cancellationToken)
    {
        var template = await TemplateAsync(cancellationToken);
        if (Server is null)
        {
            // A data folder that does not exist yet is the server's to create (and to make private), with its database.
            var path = Path.Combine(dataDirectory, "berth.db");
            if (template is not null && Directory.Exists(dataDirectory))
            {
                File.Copy(template, path);
            }

            return new TestDatabase(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString(), null, null);
        }

        return await CreateOnAsync(Server, template, cancellationToken);
    }

    /// <summary>SQLite in <paramref name="dataDirectory"/> whatever the tests run on: for what only the embedded default does (backups).</summary>
    public static TestDatabase Sqlite(string dataDirectory) =>
        new(new SqliteConnectionStringBuilder { DataSource = Path.Combine(dataDirectory, "berth.db"), Pooling = false }.ToString(), null, null);

    /// <summary>
    /// A fresh database on the PostgreSQL server <paramref name="server"/> (a connection string of a role that may
    /// create databases), whatever the tests run on: for tests with a server of their own (<see cref="ThrowawayPostgres"/>).
    /// </summary>
    public static Task<TestDatabase> CreateOnAsync(string server, CancellationToken cancellationToken) =>
        CreateOnAsync(server, null, cancellationToken);

    private static async Task<TestDatabase> CreateOnAsync(string server, string? template, CancellationToken cancellationToken)
    {
        var name = "berth_test_" + Guid.NewGuid().ToString("N");
        // FILE_COPY copies the (small) template's files instead of logging every page: much faster here.
        var from = template is null ? "" : $" TEMPLATE \"{template}\"";
        await AdministerAsync(server, $"CREATE DATABASE \"{name}\"{from} STRATEGY = FILE_COPY", cancellationToken);
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = name };
        return new TestDatabase(builder.ToString(), name, server);
    }

    /// <summary>
    /// The migrated database new ones copy, made on first use: a SQLite file in a temporary folder, or a PostgreSQL
    /// database nobody connects to again (a copy's source must have no connections). Null without a <see cref="Migrator"/>.
    /// </summary>
    private static async Task<string?> TemplateAsync(CancellationToken cancellationToken)
    {
        if (Migrator is not { } migrate)
        {
            return null;
        }

        await TemplateLock.WaitAsync(cancellationToken);
        try
        {
            if (_template is not null)
            {
                return _template;
            }

            if (Server is null)
            {
                var path = Path.Combine(TempFolder.Create("berth-template"), "berth.db");
                await migrate(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString(), false, cancellationToken);
                if (!OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite); // copies keep it: as the server makes its own
                }

                AppDomain.CurrentDomain.ProcessExit += (_, _) => TempFolder.Delete(Path.GetDirectoryName(path)!);
                return _template = path;
            }

            var name = "berth_template_" + Guid.NewGuid().ToString("N");
            await AdministerAsync(Server, $"CREATE DATABASE \"{name}\" STRATEGY = FILE_COPY", cancellationToken);
            await migrate(new NpgsqlConnectionStringBuilder(Server) { Database = name, Pooling = false }.ToString(), true, cancellationToken);
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
                AdministerAsync(Server, $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", CancellationToken.None).GetAwaiter().GetResult();
            return _template = name;
        }
        finally
        {
            TemplateLock.Release();
        }
    }

    /// <summary>A new, closed connection to the database, for tests that read or tamper with it directly.</summary>
    public DbConnection CreateConnection() => _postgresName is null
        ? new SqliteConnection(ConnectionString)
        : new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString) { Pooling = false }.ToString());

    /// <summary>Runs a statement with parameters (<c>@name</c> in the SQL); returns the rows it changed.</summary>
    public async Task<int> ExecuteAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Until when the <c>leases</c> row <paramref name="name"/> is held (UTC); null when there is no such row or no holder.</summary>
    public async Task<DateTime?> LeaseUntilAsync(string name, CancellationToken cancellationToken)
    {
        var value = await ScalarAsync("SELECT until FROM leases WHERE name = @name", cancellationToken, ("name", name));
        return value switch
        {
            DBNull => null,
            DateTime d => DateTime.SpecifyKind(d.ToUniversalTime(), DateTimeKind.Utc),
            string text => DateTime.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal),
            _ => throw new InvalidOperationException($"Unexpected lease time {value}."),
        };
    }

    /// <summary>The first column of the first row of a query (<c>@name</c> parameters), or <see cref="DBNull"/>.</summary>
    public async Task<object> ScalarAsync(string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var connection = CreateConnection();
        await connection.OpenAsync(cancellationToken);
        await using var command = Command(connection, sql, parameters);
        return await command.ExecuteScalarAsync(cancellationToken) ?? DBNull.Value;
    }

    public async ValueTask DisposeAsync()
    {
        if (_postgresName is not null && _postgresServer is not null)
        {
            // FORCE ends the connections a stopped (or killed) server left in its pool. It refuses (42501) while an
            // autovacuum worker, which our role may not end, works in the database: those finish in moments.
            for (var attempt = 1; ; attempt++)
            {
                try
                {
                    await AdministerAsync(_postgresServer, $"DROP DATABASE IF EXISTS \"{_postgresName}\" WITH (FORCE)", CancellationToken.None);
                    return;
                }
                catch (PostgresException e) when (e.SqlState == PostgresErrorCodes.InsufficientPrivilege && attempt < 20)
                {
                    await Task.Delay(250);
                }
            }
        }
    }

    private static DbCommand Command(DbConnection connection, string sql, (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static async Task AdministerAsync(string server, string sql, CancellationToken cancellationToken)
    {
        var builder = new NpgsqlConnectionStringBuilder(server) { Database = "postgres", Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ToString());
        await connection.OpenAsync(cancellationToken);
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
