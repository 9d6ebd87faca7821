using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Postgres.Migrations
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
                type: "character varying(16)",
                maxLength: 16,
                nullable: true,
                collation: "C");

            migrationBuilder.CreateTable(
                name: "version_file_insights",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false, collation: "C"),
                    digest = table.Column<string>(type: "character varying(71)", maxLength: 71, nullable: false, collation: "C"),
                    name = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false, collation: "C"),
                    format = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    verdict = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true, collation: "C"),
                    failed = table.Column<bool>(type: "boolean", nullable: false),
                    scanned = table.Column<bool>(type: "boolean", nullable: false),
                    analyzer = table.Column<int>(type: "integer", nullable: false),
                    document = table.Column<string>(type: "text", nullable: false, collation: "C")
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
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    reason = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true, collation: "C"),
                    analyzer = table.Column<int>(type: "integer", nullable: false),
                    attempts = table.Column<int>(type: "integer", nullable: false),
                    queued_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    lease_owner = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    lease_until = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    framework = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    format = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    parameters = table.Column<long>(type: "bigint", nullable: true),
                    precision = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    quantization = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    details = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    scan_verdict = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: true, collation: "C"),
                    dangerous_files = table.Column<int>(type: "integer", nullable: true),
                    suspicious_files = table.Column<int>(type: "integer", nullable: true),
                    scanned_files = table.Column<int>(type: "integer", nullable: true)
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
