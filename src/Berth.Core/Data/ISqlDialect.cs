namespace Berth.Core.Data;

/// <summary>
/// The bits of SQL that differ between providers where EF Core has no API for them (each provider project
/// registers one, next to its <see cref="IDatabaseErrors"/>).
/// </summary>
public interface ISqlDialect
{
    /// <summary>
    /// Appended to a <c>SELECT</c> so that the rows it reads stay locked until the transaction ends
    /// (<c> FOR UPDATE</c> on PostgreSQL). Empty where a write transaction already excludes every other
    /// writer (SQLite).
    /// </summary>
    string ForUpdate { get; }

    /// <summary>
    /// A statement taking a lock on the number <c>{0}</c> until the transaction ends
    /// (<c>pg_advisory_xact_lock</c> on PostgreSQL), to serialise work on something that may have no row yet.
    /// Empty where a write transaction already excludes every other writer (SQLite).
    /// </summary>
    string KeyLock { get; }
}
