using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class OciDistribution : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "oci_manifests",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    model_id = table.Column<long>(type: "INTEGER", nullable: false),
                    repository = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    origin = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    digest = table.Column<string>(type: "TEXT", maxLength: 71, nullable: false),
                    media_type = table.Column<string>(type: "TEXT", maxLength: 255, nullable: false),
                    artifact_type = table.Column<string>(type: "TEXT", maxLength: 255, nullable: true),
                    content = table.Column<byte[]>(type: "BLOB", nullable: false),
                    version_id = table.Column<long>(type: "INTEGER", nullable: true),
                    subject = table.Column<string>(type: "TEXT", maxLength: 71, nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_oci_manifests", x => x.id);
                    table.ForeignKey(
                        name: "fk_oci_manifests_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_oci_manifests_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "oci_blob_refs",
                columns: table => new
                {
                    manifest_id = table.Column<long>(type: "INTEGER", nullable: false),
                    digest = table.Column<string>(type: "TEXT", maxLength: 71, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_oci_blob_refs", x => new { x.manifest_id, x.digest });
                    table.ForeignKey(
                        name: "fk_oci_blob_refs_oci_manifests_manifest_id",
                        column: x => x.manifest_id,
                        principalTable: "oci_manifests",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "oci_tags",
                columns: table => new
                {
                    model_id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    manifest_id = table.Column<long>(type: "INTEGER", nullable: false),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_oci_tags", x => new { x.model_id, x.name });
                    table.ForeignKey(
                        name: "fk_oci_tags_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_oci_tags_oci_manifests_manifest_id",
                        column: x => x.manifest_id,
                        principalTable: "oci_manifests",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_oci_blob_refs_digest",
                table: "oci_blob_refs",
                column: "digest");

            migrationBuilder.CreateIndex(
                name: "ix_oci_manifests_model_id_repository_digest",
                table: "oci_manifests",
                columns: new[] { "model_id", "repository", "digest" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_oci_manifests_model_id_subject",
                table: "oci_manifests",
                columns: new[] { "model_id", "subject" });

            migrationBuilder.CreateIndex(
                name: "ix_oci_manifests_version_id_repository",
                table: "oci_manifests",
                columns: new[] { "version_id", "repository" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_oci_tags_manifest_id",
                table: "oci_tags",
                column: "manifest_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "oci_blob_refs");

            migrationBuilder.DropTable(
                name: "oci_tags");

            migrationBuilder.DropTable(
                name: "oci_manifests");
        }
    }
}
