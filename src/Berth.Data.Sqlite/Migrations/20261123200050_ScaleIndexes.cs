using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
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
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
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
