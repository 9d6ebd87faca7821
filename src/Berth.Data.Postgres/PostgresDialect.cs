using Berth.Core.Data;

namespace Berth.Data.Postgres;

public sealed class PostgresDialect : ISqlDialect
{
    /// <summary>
    /// Under READ COMMITTED (PostgreSQL's default) two transactions can read the same row and both write a
    /// value computed from it; <c>FOR UPDATE</c> makes the second reader wait until the first commits, and
    /// then read what it wrote.
    /// </summary>
    public string ForUpdate => " FOR UPDATE";

    /// <summary>A transaction-scoped advisory lock: held until commit or rollback, so a crash never leaves it behind.</summary>
    public string KeyLock => "SELECT pg_advisory_xact_lock({0})";

    /// <summary>None: writers wait on the rows they need, in order, not on one lock for the whole database.</summary>
    public TimeSpan WriterHandOff => TimeSpan.Zero;
}
