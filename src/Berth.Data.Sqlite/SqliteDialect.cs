using Berth.Core.Data;

namespace Berth.Data.Sqlite;

public sealed class SqliteDialect : ISqlDialect
{
    /// <summary>
    /// Nothing: SQLite has no row locks, and needs none. EF Core begins transactions with BEGIN IMMEDIATE,
    /// which takes the database's one write lock, so a transaction's reads and writes never interleave
    /// with another writer's.
    /// </summary>
    public string ForUpdate => "";

    /// <summary>Nothing, for the same reason: the transaction already holds the one write lock.</summary>
    public string KeyLock => "";

    /// <summary>Longer than the longest sleep of SQLite's busy handler (100 ms), so a waiting writer wakes up within it.</summary>
    public TimeSpan WriterHandOff => TimeSpan.FromMilliseconds(120);
}
