using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Berth.Data.Sqlite;

/// <summary>
/// Per-connection settings: LIKE is case-sensitive (ILIKE in filters lowers both sides, as in
/// PostgreSQL), commits reach the disk before they are acknowledged, and a writer that finds the
/// database locked waits inside SQLite (which retries within milliseconds) rather than in
/// Microsoft.Data.Sqlite's own busy loop, which sleeps 150 ms between tries: under concurrent writes
/// that loop made requests wait for ten times as long as the lock was held.
/// </summary>
internal sealed class SqlitePragmas(string synchronous) : DbConnectionInterceptor
{
    private readonly string _sql = $"PRAGMA case_sensitive_like = ON; PRAGMA synchronous = {synchronous}; PRAGMA busy_timeout = 30000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) => Apply(connection);

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = _sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private void Apply(DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = _sql;
        command.ExecuteNonQuery();
    }
}
