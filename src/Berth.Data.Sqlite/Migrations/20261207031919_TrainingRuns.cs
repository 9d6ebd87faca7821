using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class TrainingRuns : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "runs",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    public_id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    model_id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    status = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    created_by_id = table.Column<long>(type: "INTEGER", nullable: false),
                    started_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    ended_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    heartbeat_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    note = table.Column<string>(type: "TEXT", maxLength: 65536, nullable: true),
                    git_repository = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: true),
                    git_commit = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    git_dirty = table.Column<bool>(type: "INTEGER", nullable: true),
                    parent_run_id = table.Column<string>(type: "TEXT", maxLength: 16, nullable: true),
                    environment = table.Column<string>(type: "TEXT", maxLength: 65536, nullable: true),
                    deleted_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    revision = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_runs", x => x.id);
                    table.ForeignKey(
                        name: "fk_runs_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_runs_users_created_by_id",
                        column: x => x.created_by_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "run_batches",
                columns: table => new
                {
                    run_id = table.Column<long>(type: "INTEGER", nullable: false),
                    batch_id = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    points = table.Column<int>(type: "INTEGER", nullable: false),
                    received_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_batches", x => new { x.run_id, x.batch_id });
                    table.ForeignKey(
                        name: "fk_run_batches_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "run_datasets",
                columns: table => new
                {
                    run_id = table.Column<long>(type: "INTEGER", nullable: false),
                    ordinal = table.Column<int>(type: "INTEGER", nullable: false),
                    uri = table.Column<string>(type: "TEXT", maxLength: 2048, nullable: false),
                    digest = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_datasets", x => new { x.run_id, x.ordinal });
                    table.ForeignKey(
                        name: "fk_run_datasets_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "run_metric_chunks",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    run_id = table.Column<long>(type: "INTEGER", nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    first_step = table.Column<long>(type: "INTEGER", nullable: false),
                    last_step = table.Column<long>(type: "INTEGER", nullable: false),
                    count = table.Column<int>(type: "INTEGER", nullable: false),
                    min = table.Column<double>(type: "REAL", nullable: true),
                    max = table.Column<double>(type: "REAL", nullable: true),
                    last = table.Column<double>(type: "REAL", nullable: true),
                    data = table.Column<byte[]>(type: "BLOB", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_metric_chunks", x => x.id);
                    table.ForeignKey(
                        name: "fk_run_metric_chunks_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "run_metrics",
                columns: table => new
                {
                    run_id = table.Column<long>(type: "INTEGER", nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    count = table.Column<long>(type: "INTEGER", nullable: false),
                    last_step = table.Column<long>(type: "INTEGER", nullable: false),
                    last_time = table.Column<long>(type: "INTEGER", nullable: false),
                    last = table.Column<double>(type: "REAL", nullable: true),
                    min = table.Column<double>(type: "REAL", nullable: true),
                    max = table.Column<double>(type: "REAL", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_metrics", x => new { x.run_id, x.key });
                    table.ForeignKey(
                        name: "fk_run_metrics_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "run_params",
                columns: table => new
                {
                    run_id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 6000, nullable: false),
                    number = table.Column<double>(type: "REAL", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_params", x => new { x.run_id, x.name });
                    table.ForeignKey(
                        name: "fk_run_params_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "run_tags",
                columns: table => new
                {
                    run_id = table.Column<long>(type: "INTEGER", nullable: false),
                    key = table.Column<string>(type: "TEXT", maxLength: 128, nullable: false),
                    value = table.Column<string>(type: "TEXT", maxLength: 1024, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_run_tags", x => new { x.run_id, x.key });
                    table.ForeignKey(
                        name: "fk_run_tags_runs_run_id",
                        column: x => x.run_id,
                        principalTable: "runs",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateIndex(
                name: "ix_run_metric_chunks_summary",
                table: "run_metric_chunks",
                columns: new[] { "run_id", "key", "first_step", "last_step", "count", "min", "max", "last", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_run_metrics_key_last_run_id",
                table: "run_metrics",
                columns: new[] { "key", "last", "run_id" });

            migrationBuilder.CreateIndex(
                name: "ix_runs_created_by_id",
                table: "runs",
                column: "created_by_id");

            migrationBuilder.CreateIndex(
                name: "ix_runs_model_id_started_at_id",
                table: "runs",
                columns: new[] { "model_id", "started_at", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_runs_public_id",
                table: "runs",
                column: "public_id",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_runs_status_heartbeat_at",
                table: "runs",
                columns: new[] { "status", "heartbeat_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "run_batches");

            migrationBuilder.DropTable(
                name: "run_datasets");

            migrationBuilder.DropTable(
                name: "run_metric_chunks");

            migrationBuilder.DropTable(
                name: "run_metrics");

            migrationBuilder.DropTable(
                name: "run_params");

            migrationBuilder.DropTable(
                name: "run_tags");

            migrationBuilder.DropTable(
                name: "runs");
        }
    }
}
