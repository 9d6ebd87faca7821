using System.Text.Json;
using Berth.Contracts.Dtos;
using Berth.Contracts.Json;
using Berth.Core.Audit;
using Berth.Core.Common;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Berth.Server.Api.Endpoints;

/// <summary>The audit log: reading, exporting as JSON lines, and verifying its hash chain (server administrators).</summary>
internal static class AuditEndpoints
{
    public static RouteGroupBuilder MapAudit(this RouteGroupBuilder api)
    {
        var audit = api.MapGroup("/audit").WithTags("Audit").NeedsServerAdmin();
        audit.MapGet("/", List).WithName("ListAudit").WithSummary("Audit entries, oldest first (since/until/namespace/actor/action filters)");
        audit.MapGet("/export", Export).WithName("ExportAudit").WithSummary("Audit entries as JSON lines (application/x-ndjson), streamed");
        audit.MapPost("/verify", Verify).WithName("VerifyAudit").WithSummary("Recompute the hash chain; names the first broken entry");
        return api;
    }

    private static async Task<Ok<Page<AuditEntryInfo>>> List(AuditService audit, DateTimeOffset? since, DateTimeOffset? until, string? @namespace, string? actor, string? action, int? limit, string? cursor, CancellationToken cancellationToken) =>
        TypedResults.Ok(await audit.ListAsync(new AuditFilter(actor, action, @namespace, since, until), new Paging(limit, cursor), newestFirst: false, cancellationToken));

    private static async Task Export(HttpContext context, AuditService audit, DateTimeOffset? since, DateTimeOffset? until, string? @namespace, string? actor, string? action, CancellationToken cancellationToken)
    {
        context.Response.ContentType = "application/x-ndjson";
        var body = context.Response.Body;
        var newline = "\n"u8.ToArray();
        await foreach (var entry in audit.ExportAsync(new AuditFilter(actor, action, @namespace, since, until), cancellationToken))
        {
            await JsonSerializer.SerializeAsync(body, entry, BerthJsonContext.Default.AuditEntryInfo, cancellationToken);
            await body.WriteAsync(newline, cancellationToken);
        }
    }

    private static async Task<Ok<AuditVerification>> Verify(AuditService audit, CancellationToken cancellationToken) =>
        TypedResults.Ok(await audit.VerifyAsync(cancellationToken));
}
