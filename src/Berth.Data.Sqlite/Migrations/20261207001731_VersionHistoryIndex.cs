using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class VersionHistoryIndex : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateIndex(
                name: "ix_model_history_version_id_id",
                table: "model_history",
                columns: new[] { "version_id", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_model_history_version_id_id",
                table: "model_history");
        }
    }
}
