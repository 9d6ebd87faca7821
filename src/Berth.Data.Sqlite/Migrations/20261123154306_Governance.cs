using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class Governance : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "stages",
                table: "namespaces");

            migrationBuilder.AddColumn<string>(
                name: "external_issuer",
                table: "users",
                type: "TEXT",
                maxLength: 512,
                nullable: true);

            migrationBuilder.AddColumn<string>(
                name: "external_subject",
                table: "users",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<int>(
                name: "failed_sign_ins",
                table: "users",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "last_sign_in_at",
                table: "users",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<DateTime>(
                name: "locked_until",
                table: "users",
                type: "TEXT",
                nullable: true);

            migrationBuilder.AddColumn<bool>(
                name: "must_change_password",
                table: "users",
                type: "INTEGER",
                nullable: false,
                defaultValue: false);

            migrationBuilder.AddColumn<string>(
                name: "password_hash",
                table: "users",
                type: "TEXT",
                maxLength: 256,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "revision",
                table: "users",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L);

            migrationBuilder.AlterColumn<long>(
                name: "actor_id",
                table: "model_history",
                type: "INTEGER",
                nullable: true,
                oldClrType: typeof(long),
                oldType: "INTEGER");

            migrationBuilder.AddColumn<string>(
                name: "event",
                table: "model_history",
                type: "TEXT",
                maxLength: 16,
                nullable: true);

            migrationBuilder.AddColumn<long>(
                name: "request_id",
                table: "model_history",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "audit_head",
                columns: table => new
                {
                    id = table.Column<int>(type: "INTEGER", nullable: false),
                    last_id = table.Column<long>(type: "INTEGER", nullable: false),
                    last_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_head", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false),
                    at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    actor_id = table.Column<long>(type: "INTEGER", nullable: true),
                    actor = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    action = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    @namespace = table.Column<string>(name: "namespace", type: "TEXT", maxLength: 64, nullable: true),
                    target = table.Column<string>(type: "TEXT", maxLength: 512, nullable: true),
                    details = table.Column<string>(type: "TEXT", nullable: true),
                    client_address = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    request_id = table.Column<string>(type: "TEXT", maxLength: 128, nullable: true),
                    previous_hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    hash = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "protected_aliases",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    model_id = table.Column<long>(type: "INTEGER", nullable: false),
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    required_approvals = table.Column<int>(type: "INTEGER", nullable: false),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    created_by_id = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_protected_aliases", x => x.id);
                    table.ForeignKey(
                        name: "fk_protected_aliases_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "stage_rules",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    namespace_id = table.Column<long>(type: "INTEGER", nullable: false),
                    model_id = table.Column<long>(type: "INTEGER", nullable: true),
                    stage = table.Column<string>(type: "TEXT", maxLength: 32, nullable: false),
                    position = table.Column<int>(type: "INTEGER", nullable: false),
                    exclusive = table.Column<bool>(type: "INTEGER", nullable: false),
                    required_approvals = table.Column<int>(type: "INTEGER", nullable: false),
                    gate = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    updated_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    updated_by_id = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_stage_rules", x => x.id);
                    table.ForeignKey(
                        name: "fk_stage_rules_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_stage_rules_namespaces_namespace_id",
                        column: x => x.namespace_id,
                        principalTable: "namespaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "teams",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    name = table.Column<string>(type: "TEXT", maxLength: 64, nullable: false),
                    description = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    external_group = table.Column<string>(type: "TEXT", maxLength: 256, nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_teams", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "transition_requests",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    model_id = table.Column<long>(type: "INTEGER", nullable: false),
                    version_id = table.Column<long>(type: "INTEGER", nullable: false),
                    kind = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    stage = table.Column<string>(type: "TEXT", maxLength: 32, nullable: true),
                    alias = table.Column<string>(type: "TEXT", maxLength: 64, nullable: true),
                    state = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    required_approvals = table.Column<int>(type: "INTEGER", nullable: false),
                    requester_id = table.Column<long>(type: "INTEGER", nullable: false),
                    comment = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    created_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    closed_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    closed_by_id = table.Column<long>(type: "INTEGER", nullable: true),
                    close_reason = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    gate = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    gate_result = table.Column<string>(type: "TEXT", maxLength: 16384, nullable: true),
                    revision = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_transition_requests", x => x.id);
                    table.ForeignKey(
                        name: "fk_transition_requests_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_transition_requests_users_closed_by_id",
                        column: x => x.closed_by_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_transition_requests_users_requester_id",
                        column: x => x.requester_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_transition_requests_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "namespace_members",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    namespace_id = table.Column<long>(type: "INTEGER", nullable: false),
                    user_id = table.Column<long>(type: "INTEGER", nullable: true),
                    team_id = table.Column<long>(type: "INTEGER", nullable: true),
                    role = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    granted_at = table.Column<DateTime>(type: "TEXT", nullable: false),
                    granted_by_id = table.Column<long>(type: "INTEGER", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_namespace_members", x => x.id);
                    table.ForeignKey(
                        name: "fk_namespace_members_namespaces_namespace_id",
                        column: x => x.namespace_id,
                        principalTable: "namespaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_namespace_members_teams_team_id",
                        column: x => x.team_id,
                        principalTable: "teams",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_namespace_members_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "team_members",
                columns: table => new
                {
                    team_id = table.Column<long>(type: "INTEGER", nullable: false),
                    user_id = table.Column<long>(type: "INTEGER", nullable: false),
                    added_at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_team_members", x => new { x.team_id, x.user_id });
                    table.ForeignKey(
                        name: "fk_team_members_teams_team_id",
                        column: x => x.team_id,
                        principalTable: "teams",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_team_members_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "request_reviews",
                columns: table => new
                {
                    id = table.Column<long>(type: "INTEGER", nullable: false)
                        .Annotation("Sqlite:Autoincrement", true),
                    request_id = table.Column<long>(type: "INTEGER", nullable: false),
                    reviewer_id = table.Column<long>(type: "INTEGER", nullable: false),
                    decision = table.Column<string>(type: "TEXT", maxLength: 16, nullable: false),
                    comment = table.Column<string>(type: "TEXT", maxLength: 4096, nullable: true),
                    at = table.Column<DateTime>(type: "TEXT", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_request_reviews", x => x.id);
                    table.ForeignKey(
                        name: "fk_request_reviews_transition_requests_request_id",
                        column: x => x.request_id,
                        principalTable: "transition_requests",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_request_reviews_users_reviewer_id",
                        column: x => x.reviewer_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateIndex(
                name: "ix_users_external_issuer_external_subject",
                table: "users",
                columns: new[] { "external_issuer", "external_subject" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_model_history_model_id_at",
                table: "model_history",
                columns: new[] { "model_id", "at" });

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_at",
                table: "audit_log",
                column: "at");

            migrationBuilder.CreateIndex(
                name: "ix_namespace_members_namespace_id_team_id",
                table: "namespace_members",
                columns: new[] { "namespace_id", "team_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_namespace_members_namespace_id_user_id",
                table: "namespace_members",
                columns: new[] { "namespace_id", "user_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_namespace_members_team_id",
                table: "namespace_members",
                column: "team_id");

            migrationBuilder.CreateIndex(
                name: "ix_namespace_members_user_id",
                table: "namespace_members",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_protected_aliases_model_id_name",
                table: "protected_aliases",
                columns: new[] { "model_id", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_request_reviews_request_id_reviewer_id",
                table: "request_reviews",
                columns: new[] { "request_id", "reviewer_id" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_request_reviews_reviewer_id",
                table: "request_reviews",
                column: "reviewer_id");

            migrationBuilder.CreateIndex(
                name: "ix_stage_rules_model_id",
                table: "stage_rules",
                column: "model_id");

            migrationBuilder.CreateIndex(
                name: "ix_stage_rules_namespace_id_model_id_stage",
                table: "stage_rules",
                columns: new[] { "namespace_id", "model_id", "stage" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_stage_rules_namespace_id_stage",
                table: "stage_rules",
                columns: new[] { "namespace_id", "stage" },
                unique: true,
                filter: "model_id IS NULL");

            migrationBuilder.CreateIndex(
                name: "ix_team_members_user_id",
                table: "team_members",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_teams_external_group",
                table: "teams",
                column: "external_group");

            migrationBuilder.CreateIndex(
                name: "ix_teams_name",
                table: "teams",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_transition_requests_closed_by_id",
                table: "transition_requests",
                column: "closed_by_id");

            migrationBuilder.CreateIndex(
                name: "ix_transition_requests_model_id_state",
                table: "transition_requests",
                columns: new[] { "model_id", "state" });

            migrationBuilder.CreateIndex(
                name: "ix_transition_requests_requester_id",
                table: "transition_requests",
                column: "requester_id");

            migrationBuilder.CreateIndex(
                name: "ix_transition_requests_state_created_at",
                table: "transition_requests",
                columns: new[] { "state", "created_at" });

            migrationBuilder.CreateIndex(
                name: "ix_transition_requests_version_id",
                table: "transition_requests",
                column: "version_id");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "audit_head");

            migrationBuilder.DropTable(
                name: "audit_log");

            migrationBuilder.DropTable(
                name: "namespace_members");

            migrationBuilder.DropTable(
                name: "protected_aliases");

            migrationBuilder.DropTable(
                name: "request_reviews");

            migrationBuilder.DropTable(
                name: "stage_rules");

            migrationBuilder.DropTable(
                name: "team_members");

            migrationBuilder.DropTable(
                name: "transition_requests");

            migrationBuilder.DropTable(
                name: "teams");

            migrationBuilder.DropIndex(
                name: "ix_users_external_issuer_external_subject",
                table: "users");

            migrationBuilder.DropIndex(
                name: "ix_model_history_model_id_at",
                table: "model_history");

            migrationBuilder.DropColumn(
                name: "external_issuer",
                table: "users");

            migrationBuilder.DropColumn(
                name: "external_subject",
                table: "users");

            migrationBuilder.DropColumn(
                name: "failed_sign_ins",
                table: "users");

            migrationBuilder.DropColumn(
                name: "last_sign_in_at",
                table: "users");

            migrationBuilder.DropColumn(
                name: "locked_until",
                table: "users");

            migrationBuilder.DropColumn(
                name: "must_change_password",
                table: "users");

            migrationBuilder.DropColumn(
                name: "password_hash",
                table: "users");

            migrationBuilder.DropColumn(
                name: "revision",
                table: "users");

            migrationBuilder.DropColumn(
                name: "event",
                table: "model_history");

            migrationBuilder.DropColumn(
                name: "request_id",
                table: "model_history");

            migrationBuilder.AddColumn<string>(
                name: "stages",
                table: "namespaces",
                type: "TEXT",
                maxLength: 1024,
                nullable: false,
                defaultValue: "");

            migrationBuilder.AlterColumn<long>(
                name: "actor_id",
                table: "model_history",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0L,
                oldClrType: typeof(long),
                oldType: "INTEGER",
                oldNullable: true);
        }
    }
}
