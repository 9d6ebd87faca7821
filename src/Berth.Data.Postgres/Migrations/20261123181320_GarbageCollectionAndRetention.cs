using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class GarbageCollectionAndRetention : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<DateTime>(
                name: "purged_at",
                table: "versions",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "deleting_at",
                table: "blobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "last_used_at",
                table: "blobs",
                type: "timestamp with time zone",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "leases",
                columns: table => new
                {
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    owner = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    until = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_leases", x => x.name);
                });

            migrationBuilder.CreateTable(
                name: "retention_policies",
                columns: table => new
                {
                    namespace_id = table.Column<long>(type: "bigint", nullable: false),
                    model_id = table.Column<long>(type: "bigint", nullable: false),
                    keep_last = table.Column<int>(type: "integer", nullable: true),
                    keep_stages = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true, collation: "C"),
                    keep_aliased = table.Column<bool>(type: "boolean", nullable: false),
                    older_than = table.Column<TimeSpan>(type: "interval", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_retention_policies", x => new { x.namespace_id, x.model_id });
                    table.ForeignKey(
                        name: "fk_retention_policies_namespaces_namespace_id",
                        column: x => x.namespace_id,
                        principalTable: "namespaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_blobs_deleting_at",
                table: "blobs",
                column: "deleting_at");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "leases");

            migrationBuilder.DropTable(
                name: "retention_policies");

            migrationBuilder.DropIndex(
                name: "ix_blobs_deleting_at",
                table: "blobs");

            migrationBuilder.DropColumn(
                name: "purged_at",
                table: "versions");

            migrationBuilder.DropColumn(
                name: "deleting_at",
                table: "blobs");

            migrationBuilder.DropColumn(
                name: "last_used_at",
                table: "blobs");
        }
    }
}
