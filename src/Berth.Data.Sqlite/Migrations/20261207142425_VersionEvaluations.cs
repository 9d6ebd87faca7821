using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class VersionEvaluations : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<long>(
                name: "evaluation_id",
                table: "version_metrics",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.AddColumn<double>(
                name: "pushed",
                table: "version_metrics",
                type: "REAL",
                nullable: true);

            // Every metric there so far was given at push: that is its pushed value (evaluations start now).
            migrationBuilder.Sql("UPDATE version_metrics SET pushed = value;");

            migrationBuilder.CreateTable(
                name: "version_evaluations",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    version_id = table.Column<long>(type: "INTEGER", nullable: false),
                    dataset = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    run_id = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    note = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    created_by_id = table.Column<long>(type: "INTEGER", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_evaluations", x => x.id);
                    table.ForeignKey(
                        name: "fk_version_evaluations_users_created_by_id",
                        column: x => x.created_by_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_version_evaluations_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "version_evaluation_metrics",
                columns: table => new
                {
                    evaluation_id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    value = table.Column<double>(type: "REAL", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_evaluation_metrics", x => new { x.evaluation_id, x.name });
                    table.ForeignKey(
                        name: "fk_version_evaluation_metrics_version_evaluations_evaluation_id",
                        column: x => x.evaluation_id,
                        principalTable: "version_evaluations",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_version_metrics_evaluation_id",
                table: "version_metrics",
                column: "evaluation_id");

            migrationBuilder.CreateIndex(
                name: "ix_version_evaluations_created_by_id",
                table: "version_evaluations",
                column: "created_by_id");

            migrationBuilder.CreateIndex(
                name: "ix_version_evaluations_version_id_id",
                table: "version_evaluations",
                columns: new[] { "version_id", "id" });

            migrationBuilder.AddForeignKey(
                name: "fk_version_metrics_version_evaluations_evaluation_id",
                table: "version_metrics",
                column: "evaluation_id",
                principalTable: "version_evaluations",
                principalColumn: "id",
                onDelete: ReferentialAction.SetNull);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_version_metrics_version_evaluations_evaluation_id",
                table: "version_metrics");

            migrationBuilder.DropTable(
                name: "version_evaluation_metrics");

            migrationBuilder.DropTable(
                name: "version_evaluations");

            migrationBuilder.DropIndex(
                name: "ix_version_metrics_evaluation_id",
                table: "version_metrics");

            migrationBuilder.DropColumn(
                name: "evaluation_id",
                table: "version_metrics");

            migrationBuilder.DropColumn(
                name: "pushed",
                table: "version_metrics");
        }
    }
}
