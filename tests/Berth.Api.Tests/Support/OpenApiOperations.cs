using System.Text.Json;
using System.Text.Json.Nodes;

namespace Berth.Api.Tests.Support;

/// <summary>One parameter of an operation as the OpenAPI document describes it.</summary>
public sealed record OpenApiParameter(string Name, string In, JsonObject Schema, bool Required)
{
    /// <summary>The JSON type the parameter is read as (the first of the schema's types other than null and string, else string).</summary>
    public string Type => OpenApiOperations.MainType(Schema);
}

/// <summary>One operation of the OpenAPI document: method, path template, parameters, and the request body's media type and schema (as written: a <c>$ref</c>, or a <c>oneOf</c> with null for an optional body).</summary>
public sealed record OpenApiOperation(string Method, string Path, string Id, IReadOnlyList<OpenApiParameter> Parameters, string? BodyMediaType, JsonObject? BodySchema)
{
    public override string ToString() => $"{Id} ({Method} {Path})";
}

/// <summary>Reads the operations of the server's OpenAPI document (<c>/api/v1/openapi.json</c>), with <c>$ref</c>s resolved.</summary>
public sealed class OpenApiOperations
{
    private readonly JsonObject _schemas;

    private OpenApiOperations(JsonObject document)
    {
        _schemas = document["components"]?["schemas"]?.AsObject() ?? [];
        var operations = new List<OpenApiOperation>();
        foreach (var (path, item) in document["paths"]!.AsObject())
        {
            foreach (var (method, value) in item!.AsObject())
            {
                if (method is "parameters" or "summary" or "description")
                {
                    continue;
                }

                var operation = value!.AsObject();
                var parameters = (operation["parameters"]?.AsArray() ?? []).Select(p => p!.AsObject())
                    .Select(p => new OpenApiParameter(p["name"]!.GetValue<string>(), p["in"]!.GetValue<string>(), Resolve(p["schema"]?.AsObject() ?? []), p["required"]?.GetValue<bool>() ?? false))
                    .ToList();
                var content = operation["requestBody"]?["content"]?.AsObject();
                var (mediaType, schema) = content?.FirstOrDefault() is { Key: { } type, Value: { } body } ? (type, body["schema"]?.AsObject()) : (null, null);
                operations.Add(new OpenApiOperation(method.ToUpperInvariant(), path, operation["operationId"]?.GetValue<string>() ?? $"{method} {path}", parameters, mediaType, schema));
            }
        }

        Operations = operations;
    }

    public IReadOnlyList<OpenApiOperation> Operations { get; }

    public static async Task<OpenApiOperations> ReadAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using var response = await http.GetAsync("/api/v1/openapi.json", cancellationToken);
        response.EnsureSuccessStatusCode();
        return new OpenApiOperations(JsonNode.Parse(await response.Content.ReadAsStringAsync(cancellationToken))!.AsObject());
    }

    /// <summary>The schema with a top-level <c>$ref</c> (or a <c>oneOf</c> of null and one schema) replaced by what it names.</summary>
    public JsonObject Resolve(JsonObject schema)
    {
        for (var depth = 0; depth < 10; depth++)
        {
            if (schema["$ref"]?.GetValue<string>() is { } reference)
            {
                schema = _schemas[reference.Split('/')[^1]]!.AsObject();
            }
            else if (schema["oneOf"]?.AsArray() is { } oneOf && oneOf.Select(s => s!.AsObject()).FirstOrDefault(s => s["type"]?.ToString() != "null") is { } option)
            {
                schema = option;
            }
            else
            {
                return schema;
            }
        }

        return schema;
    }

    /// <summary>The name of a schema a <c>$ref</c> points to, or null.</summary>
    public static string? RefName(JsonObject schema) =>
        schema["$ref"]?.GetValue<string>()?.Split('/')[^1]
        ?? schema["oneOf"]?.AsArray().Select(s => s!["$ref"]?.GetValue<string>()).FirstOrDefault(r => r is not null)?.Split('/')[^1];

    public static string MainType(JsonObject schema) => schema["type"] switch
    {
        JsonArray types => types.Select(t => t!.GetValue<string>()).FirstOrDefault(t => t is not "null" and not "string") ?? "string",
        JsonValue type => type.GetValue<string>(),
        _ => schema["properties"] is not null || schema["additionalProperties"] is JsonObject ? "object" : "string",
    };

    public static bool Nullable(JsonObject schema) =>
        schema["type"] is JsonArray types && types.Any(t => t!.GetValue<string>() == "null")
        || schema["oneOf"] is JsonArray oneOf && oneOf.Any(s => s!["type"]?.ToString() == "null");
}
