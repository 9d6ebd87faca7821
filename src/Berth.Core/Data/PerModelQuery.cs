using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Berth.Core.Data;

/// <summary>
/// A compiled EF query, compiled once per model. EF binds a compiled query to the model of the context it first
/// runs on and refuses any other, and one process can host servers on different databases, whose models differ
/// (the tests run servers on SQLite and on PostgreSQL side by side): a single static compiled query would then
/// fail every request of the second kind of server.
/// </summary>
/// <typeparam name="TQuery">The delegate <see cref="EF.CompileAsyncQuery{TContext, TResult}(System.Linq.Expressions.Expression{Func{TContext, TResult}})"/> returns.</typeparam>
public sealed class PerModelQuery<TQuery>(Func<TQuery> compile)
    where TQuery : class
{
    private readonly ConditionalWeakTable<IModel, TQuery> _queries = [];

    /// <summary>The query compiled for <paramref name="context"/>'s model.</summary>
    public TQuery For(DbContext context) => _queries.GetValue(context.Model, _ => compile());
}
