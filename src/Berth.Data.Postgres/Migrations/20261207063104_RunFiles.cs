using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class RunFiles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "git_dirty",
                table: "versions",
                type: "boolean",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "purged_at",
                table: "runs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "model_uploads",
                columns: table => new
                {
                    model_id = table.Column<long>(type: "bigint", nullable: false),
                    digest = table.Column<string>(type: "character varying(71)", maxLength: 71, nullable: false, collation: "C"),
                    uploaded_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_model_uploads", x => new { x.model_id, x.digest });
                    table.ForeignKey(
                        name: "fk_model_uploads_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "run_files",
                columns: table => new
                {
                    run_id = table.Column<long>(type: "bigint", nullable: false),
                    path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false, collation: "C"),
                    size = table.Column<long>(type: "bigint", nullable: false),
                    digest = table.Column<string>(type: "character varying(71)", maxLength: 71, nullable: false, collation: "C"),
                    media_type = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true, collation: "C"),
                    attached_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_files", x => new { x.run_id, x.path });
                    table.ForeignKey(
                        name: "fk_run_files_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_versions_model_id_run_id",
                table: "versions",
                columns: new[] { "model_id", "run_id" });

            migrationBuilder.CreateIndex(
                name: "ix_runs_deleted_at_purged_at",
                table: "runs",
                columns: new[] { "deleted_at", "purged_at" });

            migrationBuilder.CreateIndex(
                name: "ix_model_uploads_uploaded_at",
                table: "model_uploads",
                column: "uploaded_at");

            migrationBuilder.CreateIndex(
                name: "ix_run_files_digest",
                table: "run_files",
                column: "digest");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "model_uploads");

            migrationBuilder.DropTable(
                name: "run_files");

            migrationBuilder.DropIndex(
                name: "ix_versions_model_id_run_id",
                table: "versions");

            migrationBuilder.DropIndex(
                name: "ix_runs_deleted_at_purged_at",
                table: "runs");

            migrationBuilder.DropColumn(
                name: "git_dirty",
                table: "versions");

            migrationBuilder.DropColumn(
                name: "purged_at",
                table: "runs");
        }
    }
}
