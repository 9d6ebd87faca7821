using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace Berth.Data.Postgres;

/// <summary>
/// Gives every text column the "C" collation: values compare and sort by their bytes, as in SQLite and
/// in Berth's own filter evaluator, whatever locale the database was created with; and LIKE with a fixed
/// prefix can use an ordinary index.
/// </summary>
internal sealed class PostgresModelCustomizer(ModelCustomizerDependencies dependencies) : RelationalModelCustomizer(dependencies)
{
    public const string Collation = "C";

    public override void Customize(ModelBuilder modelBuilder, DbContext context)
    {
        base.Customize(modelBuilder, context);
        foreach (var property in modelBuilder.Model.GetEntityTypes().SelectMany(e => e.GetProperties()))
        {
            if ((property.GetValueConverter()?.ProviderClrType ?? property.ClrType) == typeof(string))
            {
                property.SetCollation(Collation);
            }
        }
    }
}
