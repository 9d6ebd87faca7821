using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class ScaleIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_version_metrics_name_value",
                table: "version_metrics");

            migrationBuilder.CreateIndex(
                name: "ix_version_metrics_name_value_version_id",
                table: "version_metrics",
                columns: new[] { "name", "value", "version_id" });

            // Filters test tags and params as (key, value) pairs, and the two columns are strongly correlated (a
            // value such as 'risk' occurs under one key). Without statistics on the pair the planner multiplies
            // the two frequencies, underestimates how many versions match by several times, and may then pick a
            // parallel plan that costs hundreds of milliseconds for one page of a metric-sorted search.
            migrationBuilder.Sql("CREATE STATISTICS st_version_tags_key_value (mcv) ON key, value FROM version_tags;");
            migrationBuilder.Sql("CREATE STATISTICS st_version_params_name_value (mcv) ON name, value FROM version_params;");
            migrationBuilder.Sql("ANALYZE version_tags, version_params;");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("DROP STATISTICS IF EXISTS st_version_tags_key_value;");
            migrationBuilder.Sql("DROP STATISTICS IF EXISTS st_version_params_name_value;");

            migrationBuilder.DropIndex(
                name: "ix_version_metrics_name_value_version_id",
                table: "version_metrics");

            migrationBuilder.CreateIndex(
                name: "ix_version_metrics_name_value",
                table: "version_metrics",
                columns: new[] { "name", "value" });
        }
    }
}
