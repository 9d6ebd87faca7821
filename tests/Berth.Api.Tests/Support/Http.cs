using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Berth.Contracts.Dtos;

namespace Berth.Api.Tests.Support;

/// <summary>Raw HTTP helpers for tests that send what the SDK never would.</summary>
public static class Http
{
    public static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    public static async Task<HttpResponseMessage> SendJsonAsync(this HttpClient http, HttpMethod method, string url, string json, CancellationToken cancellationToken, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, url) { Content = Json(json) };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }

        return await http.SendAsync(request, cancellationToken);
    }

    /// <summary>Asserts a problem response: status, stable code; returns the parsed body.</summary>
    public static async Task<JsonElement> AssertProblemAsync(this HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {text}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var document = JsonDocument.Parse(text);
        var root = document.RootElement.Clone();
        Assert.Equal(code, root.GetProperty("code").GetString());
        Assert.Equal((int)status, root.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(root.GetProperty("detail").GetString()));
        Assert.Equal("urn:berth:problem:" + code, root.GetProperty("type").GetString());
        return root;
    }

    public static string CreateVersionJson(string digest, long size, string path = "model.bin", string? version = null) =>
        JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["version"] = version,
            ["files"] = new[] { new Dictionary<string, object> { ["path"] = path, ["size"] = size, ["digest"] = digest } },
        });

    public static async Task<T> ReadAsync<T>(this HttpResponseMessage response, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
    {
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync(type))!;
    }
}
