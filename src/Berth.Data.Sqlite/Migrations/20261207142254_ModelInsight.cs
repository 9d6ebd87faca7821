using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class ModelInsight : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "scan_policy",
                table: "namespaces",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.CreateTable(
                name: "version_file_insights",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "INTEGER", nullable: false),
                    path = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    digest = table.Column<string>(type: "TEXT", maxLength: 71, nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false),
                    format = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    verdict = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    failed = table.Column<bool>(type: "INTEGER", nullable: false),
                    scanned = table.Column<bool>(type: "INTEGER", nullable: false),
                    analyzer = table.Column<int>(type: "INTEGER", nullable: false),
                    document = table.Column<string>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_file_insights", x => new { x.version_id, x.path });
                    table.ForeignKey(
                        name: "fk_version_file_insights_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "version_insights",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "INTEGER", nullable: false),
                    state = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    reason = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    analyzer = table.Column<int>(type: "INTEGER", nullable: false),
                    attempts = table.Column<int>(type: "INTEGER", nullable: false),
                    queued_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    lease_owner = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    lease_until = table.Column<DateTime>(type: "TEXT", nullable: true),
                    framework = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    format = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    parameters = table.Column<long>(type: "INTEGER", nullable: true),
                    precision = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    quantization = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    details = table.Column<string>(type: "TEXT", nullable: true),
                    scan_verdict = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    dangerous_files = table.Column<int>(type: "INTEGER", nullable: true),
                    suspicious_files = table.Column<int>(type: "INTEGER", nullable: true),
                    scanned_files = table.Column<int>(type: "INTEGER", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_insights", x => x.version_id);
                    table.ForeignKey(
                        name: "fk_version_insights_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_version_file_insights_digest_analyzer",
                table: "version_file_insights",
                columns: new[] { "digest", "analyzer" });

            migrationBuilder.CreateIndex(
                name: "ix_version_insights_format",
                table: "version_insights",
                column: "format");

            migrationBuilder.CreateIndex(
                name: "ix_version_insights_framework",
                table: "version_insights",
                column: "framework");

            migrationBuilder.CreateIndex(
                name: "ix_version_insights_state_queued_at",
                table: "version_insights",
                columns: new[] { "state", "queued_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "version_file_insights");

            migrationBuilder.DropTable(
                name: "version_insights");

            migrationBuilder.DropColumn(
                name: "scan_policy",
                table: "namespaces");
        }
    }
}
