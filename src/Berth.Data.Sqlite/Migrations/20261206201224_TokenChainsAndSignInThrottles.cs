using System;
using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
{
    /// <inheritdoc />
    public partial class TokenChainsAndSignInThrottles : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropColumn(
                name: "failed_sign_ins",
                table: "users");

            migrationBuilder.DropColumn(
                name: "locked_until",
                table: "users");

            migrationBuilder.AddColumn<long>(
                name: "parent_id",
                table: "api_tokens",
                type: "INTEGER",
                nullable: true);

            migrationBuilder.CreateTable(
                name: "sign_in_throttles",
                columns: table => new
                {
                    key = table.Column<string>(type: "TEXT", maxLength: 160, nullable: false),
                    failures = table.Column<int>(type: "INTEGER", nullable: false),
                    last_failure_at = table.Column<DateTime>(type: "TEXT", nullable: true),
                    blocked_until = table.Column<DateTime>(type: "TEXT", nullable: true),
                    last_success_at = table.Column<DateTime>(type: "TEXT", nullable: true)
                },
                constraints: table =>
                {
                    table.PrimaryKey("pk_sign_in_throttles", x => x.key);
                });

            migrationBuilder.CreateIndex(
                name: "ix_api_tokens_parent_id",
                table: "api_tokens",
                column: "parent_id");

            migrationBuilder.AddForeignKey(
                name: "fk_api_tokens_api_tokens_parent_id",
                table: "api_tokens",
                column: "parent_id",
                principalTable: "api_tokens",
                principalColumn: "id",
                onDelete: ReferentialAction.Cascade);
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.DropForeignKey(
                name: "fk_api_tokens_api_tokens_parent_id",
                table: "api_tokens");

            migrationBuilder.DropTable(
                name: "sign_in_throttles");

            migrationBuilder.DropIndex(
                name: "ix_api_tokens_parent_id",
                table: "api_tokens");

            migrationBuilder.DropColumn(
                name: "parent_id",
                table: "api_tokens");

            migrationBuilder.AddColumn<int>(
                name: "failed_sign_ins",
                table: "users",
                type: "INTEGER",
                nullable: false,
                defaultValue: 0);

            migrationBuilder.AddColumn<DateTime>(
                name: "locked_until",
                table: "users",
                type: "TEXT",
                nullable: true);
        }
    }
}
