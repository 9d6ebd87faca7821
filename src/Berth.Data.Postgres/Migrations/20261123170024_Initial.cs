using System;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql.EntityFrameworkCore.PostgreSQL.Metadata;

#nullable disable

namespace Berth.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class Initial : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.CreateTable(
                name: "audit_head",
                columns: table => new
                {
                    id = table.Column<int>(type: "integer", nullable: false),
                    last_id = table.Column<long>(type: "bigint", nullable: false),
                    last_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_head", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "audit_log",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false),
                    at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    actor_id = table.Column<long>(type: "bigint", nullable: true),
                    actor = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    action = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    @namespace = table.Column<string>(name: "namespace", type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    target = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true, collation: "C"),
                    details = table.Column<string>(type: "text", nullable: true, collation: "C"),
                    client_address = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    request_id = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true, collation: "C"),
                    previous_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_audit_log", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "blobs",
                columns: table => new
                {
                    digest = table.Column<string>(type: "character varying(71)", maxLength: 71, nullable: false, collation: "C"),
                    size = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_blobs", x => x.digest);
                });

            migrationBuilder.CreateTable(
                name: "idempotency_records",
                columns: table => new
                {
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    key = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: false, collation: "C"),
                    request_hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    status_code = table.Column<int>(type: "integer", nullable: true),
                    content_type = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true, collation: "C"),
                    location = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true, collation: "C"),
                    e_tag = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    body = table.Column<byte[]>(type: "bytea", nullable: true),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_idempotency_records", x => new { x.user_id, x.key });
                });

            migrationBuilder.CreateTable(
                name: "namespaces",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    description = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: true, collation: "C"),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    created_by_id = table.Column<long>(type: "bigint", nullable: false),
                    deleted_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_namespaces", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "teams",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    description = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true, collation: "C"),
                    external_group = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_teams", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "upload_sessions",
                columns: table => new
                {
                    id = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    @namespace = table.Column<string>(name: "namespace", type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    model = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false, collation: "C"),
                    created_by_id = table.Column<long>(type: "bigint", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_upload_sessions", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "users",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    email = table.Column<string>(type: "character varying(320)", maxLength: 320, nullable: true, collation: "C"),
                    display_name = table.Column<string>(type: "character varying(200)", maxLength: 200, nullable: true, collation: "C"),
                    is_admin = table.Column<bool>(type: "boolean", nullable: false),
                    disabled = table.Column<bool>(type: "boolean", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    password_hash = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    must_change_password = table.Column<bool>(type: "boolean", nullable: false),
                    external_issuer = table.Column<string>(type: "character varying(512)", maxLength: 512, nullable: true, collation: "C"),
                    external_subject = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    last_sign_in_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    failed_sign_ins = table.Column<int>(type: "integer", nullable: false),
                    locked_until = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    revision = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_users", x => x.id);
                });

            migrationBuilder.CreateTable(
                name: "models",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    namespace_id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false, collation: "C"),
                    description = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: true, collation: "C"),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    last_version_number = table.Column<int>(type: "integer", nullable: false),
                    revision = table.Column<long>(type: "bigint", nullable: false),
                    deleted_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_models", x => x.id);
                    table.ForeignKey(
                        name: "fk_models_namespaces_namespace_id",
                        column: x => x.namespace_id,
                        principalTable: "namespaces",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "api_tokens",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "character varying(100)", maxLength: 100, nullable: false, collation: "C"),
                    prefix = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    hash = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    scopes = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    expires_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    revoked_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    last_used_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_api_tokens", x => x.id);
                    table.ForeignKey(
                        name: "fk_api_tokens_users_user_id",
                        column: x => x.user_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "namespace_members",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    namespace_id = table.Column<long>(type: "bigint", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: true),
                    team_id = table.Column<long>(type: "bigint", nullable: true),
                    role = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    granted_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    granted_by_id = table.Column<long>(type: "bigint", nullable: false)
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
                    team_id = table.Column<long>(type: "bigint", nullable: false),
                    user_id = table.Column<long>(type: "bigint", nullable: false),
                    added_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
                name: "model_history",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    model_id = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    alias = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    version_id = table.Column<long>(type: "bigint", nullable: true),
                    version_number = table.Column<int>(type: "integer", nullable: true),
                    previous_version_number = table.Column<int>(type: "integer", nullable: true),
                    from_stage = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    to_stage = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    actor_id = table.Column<long>(type: "bigint", nullable: true),
                    at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    comment = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true, collation: "C"),
                    request_id = table.Column<long>(type: "bigint", nullable: true),
                    @event = table.Column<string>(name: "event", type: "character varying(16)", maxLength: 16, nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_model_history", x => x.id);
                    table.ForeignKey(
                        name: "fk_model_history_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_model_history_users_actor_id",
                        column: x => x.actor_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "model_tags",
                columns: table => new
                {
                    model_id = table.Column<long>(type: "bigint", nullable: false),
                    key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false, collation: "C"),
                    value = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_model_tags", x => new { x.model_id, x.key });
                    table.ForeignKey(
                        name: "fk_model_tags_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "protected_aliases",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    model_id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    required_approvals = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    created_by_id = table.Column<long>(type: "bigint", nullable: false)
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
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    namespace_id = table.Column<long>(type: "bigint", nullable: false),
                    model_id = table.Column<long>(type: "bigint", nullable: true),
                    stage = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: false, collation: "C"),
                    position = table.Column<int>(type: "integer", nullable: false),
                    exclusive = table.Column<bool>(type: "boolean", nullable: false),
                    required_approvals = table.Column<int>(type: "integer", nullable: false),
                    gate = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true, collation: "C"),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_by_id = table.Column<long>(type: "bigint", nullable: false)
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
                name: "versions",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    model_id = table.Column<long>(type: "bigint", nullable: false),
                    number = table.Column<int>(type: "integer", nullable: false),
                    sem_ver = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: true, collation: "C"),
                    manifest_digest = table.Column<string>(type: "character varying(71)", maxLength: 71, nullable: false, collation: "C"),
                    manifest = table.Column<byte[]>(type: "bytea", nullable: false),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    stage = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    stage_changed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    description = table.Column<string>(type: "character varying(65536)", maxLength: 65536, nullable: true, collation: "C"),
                    total_size = table.Column<long>(type: "bigint", nullable: false),
                    file_count = table.Column<int>(type: "integer", nullable: false),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    created_by_id = table.Column<long>(type: "bigint", nullable: false),
                    ready_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    deleted_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    revision = table.Column<long>(type: "bigint", nullable: false),
                    run_id = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C"),
                    git_repository = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true, collation: "C"),
                    git_commit = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    pending_aliases = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_versions", x => x.id);
                    table.ForeignKey(
                        name: "fk_versions_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_versions_users_created_by_id",
                        column: x => x.created_by_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "aliases",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    model_id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: false, collation: "C"),
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    updated_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    updated_by_id = table.Column<long>(type: "bigint", nullable: false),
                    revision = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_aliases", x => x.id);
                    table.ForeignKey(
                        name: "fk_aliases_models_model_id",
                        column: x => x.model_id,
                        principalTable: "models",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                    table.ForeignKey(
                        name: "fk_aliases_users_updated_by_id",
                        column: x => x.updated_by_id,
                        principalTable: "users",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_aliases_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                });

            migrationBuilder.CreateTable(
                name: "transition_requests",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    model_id = table.Column<long>(type: "bigint", nullable: false),
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    kind = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    stage = table.Column<string>(type: "character varying(32)", maxLength: 32, nullable: true, collation: "C"),
                    alias = table.Column<string>(type: "character varying(64)", maxLength: 64, nullable: true, collation: "C"),
                    state = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    required_approvals = table.Column<int>(type: "integer", nullable: false),
                    requester_id = table.Column<long>(type: "bigint", nullable: false),
                    comment = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true, collation: "C"),
                    created_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false),
                    closed_at = table.Column<DateTime>(type: "timestamp with time zone", nullable: true),
                    closed_by_id = table.Column<long>(type: "bigint", nullable: true),
                    close_reason = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true, collation: "C"),
                    gate = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true, collation: "C"),
                    gate_result = table.Column<string>(type: "character varying(16384)", maxLength: 16384, nullable: true, collation: "C"),
                    revision = table.Column<long>(type: "bigint", nullable: false)
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
                name: "version_datasets",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    uri = table.Column<string>(type: "character varying(2048)", maxLength: 2048, nullable: false, collation: "C"),
                    digest = table.Column<string>(type: "character varying(256)", maxLength: 256, nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_datasets", x => new { x.version_id, x.ordinal });
                    table.ForeignKey(
                        name: "fk_version_datasets_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "version_files",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    path = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false, collation: "C"),
                    size = table.Column<long>(type: "bigint", nullable: false),
                    digest = table.Column<string>(type: "character varying(71)", maxLength: 71, nullable: false, collation: "C"),
                    media_type = table.Column<string>(type: "character varying(255)", maxLength: 255, nullable: true, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_files", x => new { x.version_id, x.path });
                    table.ForeignKey(
                        name: "fk_version_files_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "version_metrics",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false, collation: "C"),
                    value = table.Column<double>(type: "double precision", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_metrics", x => new { x.version_id, x.name });
                    table.ForeignKey(
                        name: "fk_version_metrics_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "version_params",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    name = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false, collation: "C"),
                    value = table.Column<string>(type: "character varying(6000)", maxLength: 6000, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_params", x => new { x.version_id, x.name });
                    table.ForeignKey(
                        name: "fk_version_params_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "version_parents",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    ordinal = table.Column<int>(type: "integer", nullable: false),
                    parent_version_id = table.Column<long>(type: "bigint", nullable: false)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_parents", x => new { x.version_id, x.ordinal });
                    table.ForeignKey(
                        name: "fk_version_parents_versions_parent_version_id",
                        column: x => x.parent_version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Restrict);
                    table.ForeignKey(
                        name: "fk_version_parents_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "version_tags",
                columns: table => new
                {
                    version_id = table.Column<long>(type: "bigint", nullable: false),
                    key = table.Column<string>(type: "character varying(128)", maxLength: 128, nullable: false, collation: "C"),
                    value = table.Column<string>(type: "character varying(1024)", maxLength: 1024, nullable: false, collation: "C")
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_version_tags", x => new { x.version_id, x.key });
                    table.ForeignKey(
                        name: "fk_version_tags_versions_version_id",
                        column: x => x.version_id,
                        principalTable: "versions",
                        principalColumn: "id",
                        onDelete: ReferentialAction.Cascade);
                });

            migrationBuilder.CreateTable(
                name: "request_reviews",
                columns: table => new
                {
                    id = table.Column<long>(type: "bigint", nullable: false)
                        .Annotation("Npgsql:ValueGenerationStrategy", NpgsqlValueGenerationStrategy.IdentityByDefaultColumn),
                    request_id = table.Column<long>(type: "bigint", nullable: false),
                    reviewer_id = table.Column<long>(type: "bigint", nullable: false),
                    decision = table.Column<string>(type: "character varying(16)", maxLength: 16, nullable: false, collation: "C"),
                    comment = table.Column<string>(type: "character varying(4096)", maxLength: 4096, nullable: true, collation: "C"),
                    at = table.Column<DateTime>(type: "timestamp with time zone", nullable: false)
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
                name: "ix_aliases_model_id_name",
                table: "aliases",
                columns: new[] { "model_id", "name" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_aliases_updated_by_id",
                table: "aliases",
                column: "updated_by_id");

            migrationBuilder.CreateIndex(
                name: "ix_aliases_version_id",
                table: "aliases",
                column: "version_id");

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_hash",
                table: "api_tokens",
                column: "hash",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_user_id",
                table: "api_tokens",
                column: "user_id");

            migrationBuilder.CreateIndex(
                name: "ix_audit_log_at",
                table: "audit_log",
                column: "at");

            migrationBuilder.CreateIndex(
                name: "ix_idempotency_records_expires_at",
                table: "idempotency_records",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_model_history_actor_id",
                table: "model_history",
                column: "actor_id");

            migrationBuilder.CreateIndex(
                name: "ix_model_history_model_id_at",
                table: "model_history",
                columns: new[] { "model_id", "at" });

            migrationBuilder.CreateIndex(
                name: "ix_model_history_model_id_id",
                table: "model_history",
                columns: new[] { "model_id", "id" });

            migrationBuilder.CreateIndex(
                name: "ix_models_namespace_id_name",
                table: "models",
                columns: new[] { "namespace_id", "name" },
                unique: true);

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
                name: "ix_namespaces_name",
                table: "namespaces",
                column: "name",
                unique: true);

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

            migrationBuilder.CreateIndex(
                name: "ix_upload_sessions_expires_at",
                table: "upload_sessions",
                column: "expires_at");

            migrationBuilder.CreateIndex(
                name: "ix_users_external_issuer_external_subject",
                table: "users",
                columns: new[] { "external_issuer", "external_subject" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_users_name",
                table: "users",
                column: "name",
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_version_files_digest",
                table: "version_files",
                column: "digest");

            migrationBuilder.CreateIndex(
                name: "ix_version_metrics_name_value",
                table: "version_metrics",
                columns: new[] { "name", "value" });

            migrationBuilder.CreateIndex(
                name: "ix_version_parents_parent_version_id",
                table: "version_parents",
                column: "parent_version_id");

            migrationBuilder.CreateIndex(
                name: "ix_version_tags_key_value",
                table: "version_tags",
                columns: new[] { "key", "value" });

            migrationBuilder.CreateIndex(
                name: "ix_versions_created_by_id",
                table: "versions",
                column: "created_by_id");

            migrationBuilder.CreateIndex(
                name: "ix_versions_model_id_manifest_digest",
                table: "versions",
                columns: new[] { "model_id", "manifest_digest" });

            migrationBuilder.CreateIndex(
                name: "ix_versions_model_id_number",
                table: "versions",
                columns: new[] { "model_id", "number" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_versions_model_id_sem_ver",
                table: "versions",
                columns: new[] { "model_id", "sem_ver" },
                unique: true);

            migrationBuilder.CreateIndex(
                name: "ix_versions_model_id_stage_stage_changed_at",
                table: "versions",
                columns: new[] { "model_id", "stage", "stage_changed_at" });

            migrationBuilder.CreateIndex(
                name: "ix_versions_state_created_at",
                table: "versions",
                columns: new[] { "state", "created_at" });
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropTable(
                name: "aliases");

            migrationBuilder.DropTable(
                name: "api_tokens");

            migrationBuilder.DropTable(
                name: "audit_head");

            migrationBuilder.DropTable(
                name: "audit_log");

            migrationBuilder.DropTable(
                name: "blobs");

            migrationBuilder.DropTable(
                name: "idempotency_records");

            migrationBuilder.DropTable(
                name: "model_history");

            migrationBuilder.DropTable(
                name: "model_tags");

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
                name: "upload_sessions");

            migrationBuilder.DropTable(
                name: "version_datasets");

            migrationBuilder.DropTable(
                name: "version_files");

            migrationBuilder.DropTable(
                name: "version_metrics");

            migrationBuilder.DropTable(
                name: "version_params");

            migrationBuilder.DropTable(
                name: "version_parents");

            migrationBuilder.DropTable(
                name: "version_tags");

            migrationBuilder.DropTable(
                name: "transition_requests");

            migrationBuilder.DropTable(
                name: "teams");

            migrationBuilder.DropTable(
                name: "versions");

            migrationBuilder.DropTable(
                name: "models");

            migrationBuilder.DropTable(
                name: "users");

            migrationBuilder.DropTable(
                name: "namespaces");
        }
    }
}
