using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class BlobQuarantineAndScrubRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "quarantine_reason",
                table: "blobs",
                type: "TEXT",
                maxLength: 32,
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "quarantined_at",
                table: "blobs",
                type: "TEXT",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "scrub_runs",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    started_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    finished_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    blobs_checked = table.Column<int>(type: "INTEGER", nullable: false),
                    bytes_checked = table.Column<long>(type: "INTEGER", nullable: false),
                    problems = table.Column<int>(type: "INTEGER", nullable: false),
                    quarantined = table.Column<int>(type: "INTEGER", nullable: false),
                    released = table.Column<int>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_scrub_runs", x => x.id);
                });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "scrub_runs");

            migrationBuilder.DropColumn(
                name: "quarantine_reason",
                table: "blobs");

            migrationBuilder.DropColumn(
                name: "quarantined_at",
                table: "blobs");
        }
    }
}
