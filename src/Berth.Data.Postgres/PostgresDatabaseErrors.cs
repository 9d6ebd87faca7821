using System.Net.Sockets;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Berth.Data.Postgres;

public sealed class PostgresDatabaseErrors : IDatabaseErrors
{
    public bool IsUniqueViolation(DbUpdateException exception) =>
        exception.InnerException is PostgresException { SqlState: PostgresErrorCodes.UniqueViolation };

    /// <summary>
    /// The server could not be reached, refused connections, went away or is shutting down (a restart),
    /// or the connection pool stayed exhausted: the request may succeed a little later.
    /// </summary>
    public bool IsUnavailable(Exception exception) => Chain(exception).Any(e => e switch
    {
        PostgresException p => p.SqlState.StartsWith("08", StringComparison.Ordinal) || p.SqlState is
            PostgresErrorCodes.AdminShutdown or PostgresErrorCodes.CrashShutdown or PostgresErrorCodes.CannotConnectNow or PostgresErrorCodes.TooManyConnections,
        NpgsqlException n => n.IsTransient || n.InnerException is SocketException or IOException or TimeoutException,
        _ => false,
    });

    /// <summary>53100 disk_full: the database server's disk is full (the database lives on another machine than Berth's blobs).</summary>
    public bool IsStorageFull(Exception exception) =>
        Chain(exception).Any(e => e is PostgresException { SqlState: PostgresErrorCodes.DiskFull });

    public bool IsSerializationFailure(Exception exception) =>
        Chain(exception).Any(e => e is PostgresException { SqlState: PostgresErrorCodes.SerializationFailure or PostgresErrorCodes.DeadlockDetected });

    private static IEnumerable<Exception> Chain(Exception? exception)
    {
        for (; exception is not null; exception = exception.InnerException)
        {
            yield return exception;
        }
    }
}
