using System.Net;
using System.Net.Sockets;
using Berth.Data.Postgres;
using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Berth.Core.Tests.Data;

public sealed class PostgresDatabaseErrorsTests
{
    private static readonly PostgresDatabaseErrors Errors = new();

    private static PostgresException Error(string sqlState) => new("message", "ERROR", "ERROR", sqlState);

    private static DbUpdateException Saving(Exception inner) => new("An error occurred while saving the entity changes.", inner);

    [Fact]
    public void AUniqueViolationIsOneOnlyWhenAUniqueIndexRefusedTheRow()
    {
        Assert.True(Errors.IsUniqueViolation(Saving(Error(PostgresErrorCodes.UniqueViolation))));
        Assert.False(Errors.IsUniqueViolation(Saving(Error(PostgresErrorCodes.ForeignKeyViolation))));
        Assert.False(Errors.IsUniqueViolation(Saving(Error(PostgresErrorCodes.SerializationFailure))));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.SerializationFailure)]
    [InlineData(PostgresErrorCodes.DeadlockDetected)]
    public void SerializationFailuresAndDeadlocksAreRetriedWhereverTheyAreRaised(string sqlState)
    {
        Assert.True(Errors.IsSerializationFailure(Error(sqlState)));
        Assert.True(Errors.IsSerializationFailure(Saving(Error(sqlState))));
        Assert.True(Errors.IsSerializationFailure(new InvalidOperationException("wrapped", Error(sqlState))));
        Assert.False(Errors.IsUnavailable(Error(sqlState)));
    }

    [Theory]
    [InlineData(PostgresErrorCodes.AdminShutdown)]
    [InlineData(PostgresErrorCodes.CrashShutdown)]
    [InlineData(PostgresErrorCodes.CannotConnectNow)]
    [InlineData(PostgresErrorCodes.TooManyConnections)]
    [InlineData(PostgresErrorCodes.ConnectionFailure)]
    public void AServerShuttingDownOrRefusingConnectionsIsAnOutage(string sqlState)
    {
        Assert.True(Errors.IsUnavailable(Error(sqlState)));
        Assert.True(Errors.IsUnavailable(Saving(Error(sqlState))));
    }

    [Fact]
    public void StatementErrorsAreNeitherOutagesNorRaces()
    {
        foreach (var sqlState in new[] { PostgresErrorCodes.UniqueViolation, PostgresErrorCodes.StringDataRightTruncation, PostgresErrorCodes.UndefinedTable })
        {
            Assert.False(Errors.IsUnavailable(Saving(Error(sqlState))));
            Assert.False(Errors.IsSerializationFailure(Saving(Error(sqlState))));
        }

        Assert.False(Errors.IsUnavailable(new InvalidOperationException("not a database error")));
    }

    [Fact]
    public async Task AServerThatIsNotListeningIsAnOutage()
    {
        int port;
        using (var listener = new TcpListener(IPAddress.Loopback, 0))
        {
            listener.Start();
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        await using var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port};Username=berth;Password=x;Pooling=false;Timeout=5");
        var refused = await Assert.ThrowsAnyAsync<NpgsqlException>(() => connection.OpenAsync(TestContext.Current.CancellationToken));

        Assert.True(Errors.IsUnavailable(refused));
        Assert.False(Errors.IsSerializationFailure(refused));
    }
}
