using System.Globalization;
using Microsoft.Data.Sqlite;
using Npgsql;
using NpgsqlTypes;

namespace Berth.Bench;

/// <summary>
/// Where the seeder writes rows in bulk: PostgreSQL through binary COPY, or SQLite through one transaction
/// of reused prepared inserts. Values are long, int, double, string, bool, byte[], UTC DateTime or null,
/// stored the way EF Core stores them for Berth (SQLite: dates as 'yyyy-MM-dd HH:mm:ss.FFFFFFF' text).
/// </summary>
internal abstract class BulkTarget : IAsyncDisposable
{
    public abstract string Describe { get; }

    public static async Task<BulkTarget> OpenAsync(string db)
    {
        if (db.Contains("Host=", StringComparison.OrdinalIgnoreCase))
        {
            // No command timeout: completing a COPY waits for the server to index millions of rows.
            var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(db) { CommandTimeout = 0 }.ToString());
            await connection.OpenAsync();
            return new Postgres(connection);
        }

        var path = Directory.Exists(db) ? Path.Combine(db, "berth.db") : db;
        if (!File.Exists(path))
        {
            throw new ArgumentException($"{path} does not exist; start 'berth serve' once on it so that it is migrated.");
        }

        var sqlite = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await sqlite.OpenAsync();
        return new Sqlite(sqlite);
    }

    public abstract Task<long?> ScalarAsync(string sql);

    public abstract Task ExecuteAsync(string sql);

    /// <summary>Before the first table: bulk-load settings; SQLite also opens the one transaction.</summary>
    public abstract Task BeginAsync();

    public abstract Task<Table> TableAsync(string name, params string[] columns);

    /// <summary>After the last table: commit, restore settings, identity sequences and statistics.</summary>
    public abstract Task FinishAsync(IEnumerable<string> identityTables);

    public abstract ValueTask DisposeAsync();

    internal abstract class Table : IAsyncDisposable
    {
        public long Rows { get; protected set; }

        public abstract ValueTask RowAsync(params object?[] values);

        public abstract ValueTask DisposeAsync();
    }

    private sealed class Postgres(NpgsqlConnection connection) : BulkTarget
    {
        public override string Describe => $"PostgreSQL {connection.PostgreSqlVersion} ({connection.Host}:{connection.Port}/{connection.Database})";

        public override async Task<long?> ScalarAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : null;
        }

        public override async Task ExecuteAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }

        // Each table is its own COPY (and transaction): a failure leaves the tables written so far, which the
        // seeder reports; rerun on a fresh database.
        public override Task BeginAsync() => ExecuteAsync("SET synchronous_commit = off");

        public override async Task<Table> TableAsync(string name, params string[] columns) =>
            new Copy(await connection.BeginBinaryImportAsync($"COPY {name} ({string.Join(", ", columns)}) FROM STDIN (FORMAT BINARY)"));

        public override async Task FinishAsync(IEnumerable<string> identityTables)
        {
            foreach (var table in identityTables)
            {
                // Rows were written with explicit ids: move each identity past them, as inserts would have.
                await ExecuteAsync($"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))");
            }

            // What autovacuum does after a bulk insert anyway: statistics for the planner, and the visibility map
            // that lets index-only scans skip the table.
            await ExecuteAsync("VACUUM ANALYZE");
        }

        public override async ValueTask DisposeAsync() => await connection.DisposeAsync();

        private sealed class Copy(NpgsqlBinaryImporter importer) : Table
        {
            public override async ValueTask RowAsync(params object?[] values)
            {
                await importer.StartRowAsync();
                foreach (var value in values)
                {
                    switch (value)
                    {
                        case null: await importer.WriteNullAsync(); break;
                        case long l: await importer.WriteAsync(l, NpgsqlDbType.Bigint); break;
                        case int i: await importer.WriteAsync(i, NpgsqlDbType.Integer); break;
                        case double d: await importer.WriteAsync(d, NpgsqlDbType.Double); break;
                        case string s: await importer.WriteAsync(s, NpgsqlDbType.Varchar); break;
                        case bool b: await importer.WriteAsync(b, NpgsqlDbType.Boolean); break;
                        case byte[] bytes: await importer.WriteAsync(bytes, NpgsqlDbType.Bytea); break;
                        case DateTime t: await importer.WriteAsync(t, NpgsqlDbType.TimestampTz); break;
                        default: throw new ArgumentException($"Unsupported value type {value.GetType().Name}.", nameof(values));
                    }
                }

                Rows++;
            }

            public override async ValueTask DisposeAsync()
            {
                await importer.CompleteAsync();
                await importer.DisposeAsync();
            }
        }
    }

    private sealed class Sqlite(SqliteConnection connection) : BulkTarget
    {
        private SqliteTransaction? _transaction;

        public override string Describe => $"SQLite {connection.ServerVersion} ({connection.DataSource})";

        public override async Task<long?> ScalarAsync(string sql)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = _transaction;
            return await command.ExecuteScalarAsync() is { } value and not DBNull ? Convert.ToInt64(value, CultureInfo.InvariantCulture) : null;
        }

        public override async Task ExecuteAsync(string sql)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.Transaction = _transaction;
            await command.ExecuteNonQueryAsync();
        }

        public override async Task BeginAsync()
        {
            // Bulk load: no rollback journal, no fsync, a large page cache for the secondary indexes. The
            // server's journal mode (WAL) is restored at the end.
            await ExecuteAsync("PRAGMA journal_mode = OFF");
            await ExecuteAsync("PRAGMA synchronous = OFF");
            await ExecuteAsync("PRAGMA cache_size = -2000000");
            await ExecuteAsync("PRAGMA temp_store = MEMORY");
            _transaction = connection.BeginTransaction();
        }

        public override Task<Table> TableAsync(string name, params string[] columns)
        {
            var command = connection.CreateCommand();
            command.Transaction = _transaction;
            command.CommandText = $"INSERT INTO {name} ({string.Join(", ", columns)}) VALUES ({string.Join(", ", columns.Select((_, i) => "$p" + i))})";
            var parameters = columns.Select((_, i) => command.Parameters.Add(new SqliteParameter { ParameterName = "$p" + i })).ToArray();
            command.Prepare();
            return Task.FromResult<Table>(new Insert(command, parameters));
        }

        public override async Task FinishAsync(IEnumerable<string> identityTables)
        {
            await _transaction!.CommitAsync();
            _transaction = null;
            await ExecuteAsync("PRAGMA journal_mode = WAL");
        }

        public override async ValueTask DisposeAsync()
        {
            if (_transaction is not null)
            {
                await _transaction.DisposeAsync();
            }

            await connection.DisposeAsync();
        }

        private sealed class Insert(SqliteCommand command, SqliteParameter[] parameters) : Table
        {
            public override ValueTask RowAsync(params object?[] values)
            {
                for (var i = 0; i < values.Length; i++)
                {
                    parameters[i].Value = values[i] switch
                    {
                        null => DBNull.Value,
                        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture),
                        bool b => b ? 1L : 0L,
                        var v => v,
                    };
                }

                command.ExecuteNonQuery();
                Rows++;
                return ValueTask.CompletedTask;
            }

            public override ValueTask DisposeAsync() => command.DisposeAsync();
        }
    }
}
