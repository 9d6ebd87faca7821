using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class GovernanceDefaults : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            // Namespaces created before stage policies had the default stage list and no roles: give
            // them the default rules and make their creators their admins.
            migrationBuilder.Sql("""
                INSERT INTO stage_rules (namespace_id, model_id, stage, position, exclusive, required_approvals, gate, updated_at, updated_by_id)
                SELECT n.id, NULL, s.stage, s.position, 0, 0, NULL, n.created_at, n.created_by_id
                FROM namespaces n
                CROSS JOIN (SELECT 'development' AS stage, 0 AS position UNION ALL SELECT 'staging', 1
                            UNION ALL SELECT 'production', 2 UNION ALL SELECT 'archived', 3) s
                WHERE NOT EXISTS (SELECT 1 FROM stage_rules r WHERE r.namespace_id = n.id);
                """);
            migrationBuilder.Sql("""
                INSERT INTO namespace_members (namespace_id, user_id, team_id, role, granted_at, granted_by_id)
                SELECT n.id, n.created_by_id, NULL, 'admin', n.created_at, n.created_by_id
                FROM namespaces n
                WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = n.created_by_id)
                  AND NOT EXISTS (SELECT 1 FROM namespace_members m WHERE m.namespace_id = n.id AND m.user_id = n.created_by_id);
                """);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {

        }
    }
}
