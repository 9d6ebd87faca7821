// A Berth webhook receiver that starts a GitHub Actions deployment when a version enters production.
// Environment: BERTH_WEBHOOK_SECRET (the webhook's secret), GITHUB_TOKEN (may create repository
// dispatches), GITHUB_REPOSITORY (owner/name of the repository with the deploy workflow).
using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Berth.Contracts.Webhooks;

var builder = WebApplication.CreateSlimBuilder(args);
var app = builder.Build();
var secret = Setting("BERTH_WEBHOOK_SECRET");
var repository = Setting("GITHUB_REPOSITORY");
using var github = new HttpClient { BaseAddress = new Uri("https://api.github.com/") };
github.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Setting("GITHUB_TOKEN"));
github.DefaultRequestHeaders.UserAgent.ParseAdd("berth-webhook-receiver/1");
github.DefaultRequestHeaders.Accept.ParseAdd("application/vnd.github+json");

// Event ids already handed to GitHub: Berth delivers at least once, so a repeat is possible (keep this in a
// database if the receiver runs on several machines).
var started = new ConcurrentDictionary<long, bool>();

app.MapPost("/hooks/berth", async (HttpRequest request, CancellationToken cancellationToken) =>
{
    // 1. Verify the signature over the raw body, before trusting anything in it.
    using var buffer = new MemoryStream();
    await request.Body.CopyToAsync(buffer, cancellationToken);
    var body = buffer.ToArray();
    if (!WebhookSignature.Verify(secret, request.Headers[WebhookSignature.Header], body, tolerance: TimeSpan.FromMinutes(5)))
    {
        return Results.Unauthorized();
    }

    // 2. Only promotions into production start a deployment; acknowledge everything else.
    using var json = JsonDocument.Parse(body);
    var e = json.RootElement;
    var promoted = e.GetProperty("type").GetString() == "stage.changed"
        && e.GetProperty("after").ValueKind == JsonValueKind.Object
        && e.GetProperty("after").GetProperty("stage").GetString() == "production";
    if (!promoted || !started.TryAdd(e.GetProperty("id").GetInt64(), true))
    {
        return Results.NoContent();
    }

    // 3. Start the workflow. A failure answers 502, so Berth retries the delivery later.
    var dispatch = new
    {
        event_type = "berth-promotion",
        client_payload = new { model = e.GetProperty("model").GetString(), version = e.GetProperty("version").GetInt32(), eventId = e.GetProperty("id").GetInt64() },
    };
    using var response = await github.PostAsJsonAsync($"repos/{repository}/dispatches", dispatch, cancellationToken);
    if (!response.IsSuccessStatusCode)
    {
        started.TryRemove(e.GetProperty("id").GetInt64(), out _);
        return Results.StatusCode(StatusCodes.Status502BadGateway);
    }

    return Results.Accepted();
});

app.Run();

static string Setting(string name) =>
    Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : throw new InvalidOperationException($"Set {name}.");
