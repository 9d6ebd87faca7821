using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Postgres.Migrations
{
    /// <inheritdoc />
    public partial class WebhookSecretsAtRest : Migration
    {
        /// <inheritdoc />
        protected override void Up(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.AddColumn<string>(
                name: "detail",
                table: "webhook_attempts",
                type: "character varying(1024)",
                maxLength: 1024,
                nullable: true,
                collation: "C");

            // An attempt's error was the socket's message; it becomes the detail (server administrators only), and the
            // error a category namespace admins may see.
            migrationBuilder.Sql("""
                UPDATE webhook_attempts SET detail = error, error = CASE
                    WHEN error LIKE 'timed out%' THEN 'timeout'
                    WHEN error LIKE 'refused to connect%' THEN 'address_refused'
                    WHEN error LIKE '%onnection refused%' THEN 'connection_refused'
                    ELSE 'connection_failed' END
                WHERE error IS NOT NULL
                """);

            migrationBuilder.AlterColumn<string>(
                name: "secret",
                table: "webhooks",
                type: "character varying(256)",
                maxLength: 256,
                nullable: true,
                collation: "C",
                oldClrType: typeof(string),
                oldType: "character varying(256)",
                oldMaxLength: 256,
                oldCollation: "C");

            migrationBuilder.AddColumn<string>(
                name: "protected_secret",
                table: "webhooks",
                type: "character varying(2048)",
                maxLength: 2048,
                nullable: true,
                collation: "C");
        }

        /// <inheritdoc />
        protected override void Down(MigrationBuilder migrationBuilder)
        {
            migrationBuilder.Sql("UPDATE webhook_attempts SET error = detail WHERE detail IS NOT NULL");

            migrationBuilder.DropColumn(
                name: "protected_secret",
                table: "webhooks");

            migrationBuilder.DropColumn(
                name: "detail",
                table: "webhook_attempts");

            migrationBuilder.AlterColumn<string>(
                name: "secret",
                table: "webhooks",
                type: "character varying(256)",
                maxLength: 256,
                nullable: false,
                defaultValue: "",
                collation: "C",
                oldClrType: typeof(string),
                oldType: "character varying(256)",
                oldMaxLength: 256,
                oldNullable: true,
                oldCollation: "C");
        }
    }
}
