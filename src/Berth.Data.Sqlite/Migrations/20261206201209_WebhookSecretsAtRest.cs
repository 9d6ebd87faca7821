using Microsoft.EntityFrameworkCore.Migrations;

#nullable disable

namespace Berth.Data.Sqlite.Migrations
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
                type: "TEXT",
                maxLength: 1024,
                nullable: true);

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
                type: "TEXT",
                maxLength: 256,
                nullable: true,
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 256);

            migrationBuilder.AddColumn<string>(
                name: "protected_secret",
                table: "webhooks",
                type: "TEXT",
                maxLength: 2048,
                nullable: true);
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
                type: "TEXT",
                maxLength: 256,
                nullable: false,
                defaultValue: "",
                oldClrType: typeof(string),
                oldType: "TEXT",
                oldMaxLength: 256,
                oldNullable: true);
        }
    }
}
