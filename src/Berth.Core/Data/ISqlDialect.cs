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

    /// <summary>
    /// How long work that writes in many short transactions in a row (a large declaration) pauses between them, so that
    /// other writers get their turn: zero where writers queue on row locks (PostgreSQL); on SQLite a writer waiting for
    /// the one write lock retries every 100 ms at most, and without a pause that long it could keep missing its turn.
    /// </summary>
    TimeSpan WriterHandOff { get; }
}
