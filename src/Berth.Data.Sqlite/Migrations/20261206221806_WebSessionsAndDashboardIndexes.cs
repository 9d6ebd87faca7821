using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class WebSessionsAndDashboardIndexes : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "web_session",
                table: "api_tokens",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.CreateIndex(
                name: "ix_models_name_id",
                table: "models",
                columns: new[] { "name", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_models_updated_at_id",
                table: "models",
                columns: new[] { "updated_at", "id" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_models_name_id",
                table: "models");

            migrationBuilder.DropIndex(
                name: "ix_models_updated_at_id",
                table: "models");

            migrationBuilder.DropColumn(
                name: "web_session",
                table: "api_tokens");
        }
    }
}
