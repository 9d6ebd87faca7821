using Berth.Core.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace Berth.Data.Sqlite;

public sealed class SqliteDatabaseErrors : IDatabaseErrors
{
    private const int SqliteConstraint = 19;
    private const int SqliteConstraintPrimaryKey = 1555;
    private const int SqliteConstraintUnique = 2067;
    private const int SqliteFull = 13;

    public bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is SqliteException { SqliteErrorCode: SqliteConstraint } e &&
        e.SqliteExtendedErrorCode is SqliteConstraintUnique or SqliteConstraintPrimaryKey;

    public bool IsUnavailable(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: 5 or 6 or 10 or 14 } ||
        exception.InnerException is SqliteException { SqliteErrorCode: 5 or 6 or 10 or 14 };

    /// <summary>SQLITE_FULL: the disk holding the database (and its write-ahead log) is full.</summary>
    public bool IsStorageFull(Exception exception) =>
        exception is SqliteException { SqliteErrorCode: SqliteFull } ||
        exception.InnerException is SqliteException { SqliteErrorCode: SqliteFull };

    /// <summary>Never: a write transaction (BEGIN IMMEDIATE) holds the database's one write lock from its start.</summary>
    public bool IsSerializationFailure(Exception exception) => false;
}
