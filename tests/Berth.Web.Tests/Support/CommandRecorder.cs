using System.Collections.Concurrent;
using System.Data.Common;
using System.Diagnostics;
using Berth.Api.Tests.Support;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Berth.Web.Tests.Support;

/// <summary>
/// The commands EF Core runs on the watched server's database from <see cref="Watch"/> on. Subscribed before the server
/// starts: EF Core caches for a while whether anyone listens. Its diagnostic events are process-wide: filtered by connection.
/// </summary>
public sealed class CommandRecorder : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private readonly IDisposable _all;
    private (string DataSource, string Database)? _watched;
    private readonly ConcurrentQueue<IDisposable> _subscriptions = new();
    private readonly ConcurrentQueue<(string Text, IReadOnlyList<(string Name, object Value)> Parameters)> _executed = new();

    public CommandRecorder() => _all = DiagnosticListener.AllListeners.Subscribe(this);

    public void Watch(TestServer server)
    {
        using var connection = server.Database.CreateConnection();
        _watched = (Path.GetFullPath(connection.DataSource), connection.Database);
        _executed.Clear();
    }

    public IReadOnlyList<(string Text, IReadOnlyList<(string Name, object Value)> Parameters)> Executed => _executed.ToList();

    public IReadOnlyList<string> Texts => _executed.Select(c => c.Text).ToList();

    public void OnNext(DiagnosticListener listener)
    {
        if (listener.Name == DbLoggerCategory.Name)
        {
            _subscriptions.Enqueue(listener.Subscribe(this));
        }
    }

    public void OnNext(KeyValuePair<string, object?> value)
    {
        if (value.Key == RelationalEventId.CommandExecuted.Name && value.Value is CommandExecutedEventData { Command: var command } &&
            command.Connection is { } connection && Same(connection))
        {
            _executed.Enqueue((command.CommandText, command.Parameters.Cast<DbParameter>().Select(p => (p.ParameterName, p.Value ?? DBNull.Value)).ToList()));
        }
    }

    // PostgreSQL: each test server has a database of its own; SQLite: a file of its own.
    private bool Same(DbConnection connection) => TestDatabase.IsPostgres
        ? _watched?.Database == connection.Database
        : _watched == (Path.GetFullPath(connection.DataSource), connection.Database);

    public void OnCompleted()
    {
    }

    public void OnError(Exception error)
    {
    }

    public void Dispose()
    {
        _all.Dispose();
        while (_subscriptions.TryDequeue(out var subscription))
        {
            subscription.Dispose();
        }
    }
}
