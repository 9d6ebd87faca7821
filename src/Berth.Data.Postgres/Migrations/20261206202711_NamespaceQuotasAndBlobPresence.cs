using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class NamespaceQuotasAndBlobPresence : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<bool>(
                name: "needs_upload",
                table: "version_files",
                type: "boolean",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<long>(
                name: "max_bytes",
                table: "namespaces",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "max_versions",
                table: "namespaces",
                type: "bigint",
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "used_bytes",
                table: "namespaces",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AddColumn<long>(
                name: "version_count",
                table: "namespaces",
                type: "bigint",
                nullable: false,
                defaultValue: 0L);

            // Usage of the namespaces as they are: the pending and ready versions of their models that are not deleted.
            migrationBuilder.Sql("""
                UPDATE namespaces SET
                    used_bytes = COALESCE((SELECT SUM(v.total_size) FROM versions v JOIN models m ON m.id = v.model_id
                                           WHERE m.namespace_id = namespaces.id AND m.deleted_at IS NULL AND v.state IN ('pending', 'ready')), 0),
                    version_count = (SELECT COUNT(*) FROM versions v JOIN models m ON m.id = v.model_id
                                     WHERE m.namespace_id = namespaces.id AND m.deleted_at IS NULL AND v.state IN ('pending', 'ready'))
                """);

            migrationBuilder.CreateIndex(
                name: "ix_version_files_needs_upload",
                table: "version_files",
                columns: new[] { "version_id", "digest" },
                filter: "needs_upload");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropIndex(
                name: "ix_version_files_needs_upload",
                table: "version_files");

            migrationBuilder.DropColumn(
                name: "needs_upload",
                table: "version_files");

            migrationBuilder.DropColumn(
                name: "max_bytes",
                table: "namespaces");

            migrationBuilder.DropColumn(
                name: "max_versions",
                table: "namespaces");

            migrationBuilder.DropColumn(
                name: "used_bytes",
                table: "namespaces");

            migrationBuilder.DropColumn(
                name: "version_count",
                table: "namespaces");
        }
    }
}
