using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Data;

/// <summary>Provider-specific reading of database errors (each provider project registers one).</summary>
public interface IDatabaseErrors
{
    /// <summary>True when the update failed on a unique index or primary key.</summary>
    bool IsUniqueViolation(DbUpdateException exception);

    /// <summary>True when the database could not be reached or is shutting down (the request may be retried).</summary>
    bool IsUnavailable(Exception exception);

    /// <summary>
    /// True when the database could not write because its disk (or quota) is full: SQLite's <c>SQLITE_FULL</c>
    /// ("database or disk is full"), PostgreSQL's <c>53100 disk_full</c>. The transaction was rolled back.
    /// </summary>
    bool IsStorageFull(Exception exception);

    /// <summary>
    /// True when the database aborted the transaction to settle a conflict with a concurrent one (a
    /// serialization failure or a deadlock): running the whole transaction again may succeed.
    /// </summary>
    bool IsSerializationFailure(Exception exception);
}
