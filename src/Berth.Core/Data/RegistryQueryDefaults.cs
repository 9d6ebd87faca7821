using Microsoft.EntityFrameworkCore;

namespace Berth.Core.Data;

/// <summary>Query settings every provider applies.</summary>
public static class RegistryQueryDefaults
{
    /// <summary>
    /// A list in a query (<c>ids.Contains(v.Id)</c>) goes to the database as one array parameter: <c>json_each(@ids)</c>
    /// on SQLite, <c>= ANY(@ids)</c> on PostgreSQL. EF Core 10's default of one parameter per value made it rework the
    /// IN list at every execution of every query that carries it; for a search page (51 ids, nine split queries for the
    /// details) that was a third of the request's CPU time.
    /// </summary>
    public const ParameterTranslationMode Collections = ParameterTranslationMode.Parameter;
}
