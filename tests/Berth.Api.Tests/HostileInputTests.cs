using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Berth.Api.Tests.Support;
using Berth.Client.Transfers;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Contracts.Naming;
using Berth.Core.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Api.Tests;

/// <summary>
/// Every operation of the server's own OpenAPI document, called with malformed and hostile input: wrong JSON types,
/// broken JSON, huge strings, Unicode oddities, path traversal, bad digests, absurd numbers, odd Accept and Content-Type
/// headers, missing and forged tokens. Whatever arrives, the answer is never a 5xx; every 4xx is a problem document whose
/// code is documented (<see cref="ErrorCodes.All"/>, docs/errors.md) and sent with that code's status; and a refused
/// call stores nothing: no row of the registry's tables and no file of the data folder is added or removed by it.
/// Hostile values in names, selectors, digests and other identifiers must be refused outright. The caller is a writer
/// of the namespace, or the server administrator for the operations a writer may not call (those refuse a writer before
/// reading anything), so that every operation's input is read. The inputs are chosen with a fixed seed per operation, so a failure
/// repeats; each failure names the operation and the input.
/// </summary>
/// <remarks>
/// URLs stay under Kestrel's request-line limit (8 KiB): longer ones are answered by Kestrel itself, before the
/// application, with a bare 414. Dot segments (<c>..</c>, <c>%2e%2e</c>) are resolved by HTTP before routing, so such a
/// URL may legitimately reach another resource.
/// </remarks>
public sealed partial class HostileInputTests : IAsyncLifetime
{
    private const int Seed = 20_18;
    private const string Ns = "fuzz";
    private const string Model = "m";
    private const string SignIn = "SignIn"; // the one operation a caller without a token may call

    /// <summary>Body fields that name or address something: no hostile string may pass as one of them.</summary>
    private static readonly HashSet<string> IdentifierFields = new(StringComparer.Ordinal)
    {
        "role", "stage", "digest", "digests", "environment", "status", "events", "scopes", "url", "olderThan", "keepStages", "aliases", "parents", "gitCommit",
        "user", "team", "model", "version",
    };

    /// <summary>Schemas whose <c>name</c> is a namespace, model, user or team name (a token's name is free text).</summary>
    private static readonly HashSet<string> NamedSchemas = new(StringComparer.Ordinal) { "CreateNamespaceRequest", "CreateModelRequest", "CreateUserRequest", "CreateTeamRequest" };

    private TestServer _server = null!;
    private TestUser _writer = null!;
    private OpenApiOperations _api = null!;
    private string _countSql = null!;
    private int _tables;
    private readonly Dictionary<string, string> _ids = new(StringComparer.Ordinal);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        // No rate limits (thousands of calls), and webhooks may call the closed local port the fixture's webhook uses.
        // Sign-ins are throttled after one failure, so that few hostile sign-ins pay for a password hash.
        _server = await TestServer.StartAsync("--RateLimits:Enabled=false", "--Webhooks:AllowedNetworks:0=127.0.0.1/32",
            "--SignIn:FreeFailures=1", "--SignIn:AddressFreeFailures=1");
        await _server.CreateNamespaceAsync(Ns);
        using (var folder = new ModelFolder(("f.bin", 32)))
        {
            await _server.Client.PushAsync(folder.Root, Ns, Model, new PushOptions { Aliases = ["champion"] }, cancellationToken: Ct);
        }

        await _server.Client.SetStageRuleAsync(Ns, null, "production", new SetStageRuleRequest(RequiredApprovals: 5), Ct);
        _writer = await _server.AddUserAsync("writer", Ns, Roles.Writer);
        await _server.AddUserAsync("someone");
        await _server.Client.CreateTeamAsync(new CreateTeamRequest("crew"), Ct);
        var opened = await _writer.Client.ChangeStageAsync(ModelReference.Parse($"{Ns}/{Model}:1"), "production", cancellationToken: Ct);
        var hook = await _server.Client.CreateWebhookAsync(Ns, new CreateWebhookRequest("http://127.0.0.1:9/hook"), Ct);
        var delivery = await _server.Client.TestWebhookAsync(hook.Id, Ct);
        using var upload = await _writer.Http.PostAsync($"/api/v1/models/{Ns}/{Model}/uploads", null, Ct);
        var session = JsonNode.Parse(await upload.Content.ReadAsStringAsync(Ct))!;
        _ids["requests"] = opened.Request!.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _ids["webhooks"] = hook.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _ids["deliveries"] = delivery.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _ids["uploads"] = session["id"]!.GetValue<string>();
        _ids["tokens"] = "999999";
        _ids["runs"] = (await _server.Client.CreateRunAsync(Ns, Model, cancellationToken: Ct)).Id;
        _api = await OpenApiOperations.ReadAsync(_server.Anonymous, Ct);
        (_countSql, _tables) = CountQuery();
    }

    public async ValueTask DisposeAsync()
    {
        _writer?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task EveryOperationAnswersHostileInputWithADocumentedProblemAndStoresNothingItRefuses()
    {
        using var writer = NewHttp(_writer.Token);
        using var admin = NewHttp(_server.AdminToken);
        var failures = new List<string>();
        var (calls, refused) = (0, 0);
        var slowest = new List<(TimeSpan Took, int Calls, OpenApiOperation Operation)>();
        var before = await CountAsync();
        foreach (var operation in _api.Operations.OrderBy(o => o.Path, StringComparer.Ordinal).ThenBy(o => o.Method, StringComparer.Ordinal))
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            var count = calls;

            // Beyond a writer's role, the server administrator sends this operation's input.
            var probe = await SendAsync(writer, Baseline(operation));
            var (http, who) = probe.Status == 403 && probe.Code == "forbidden" ? (admin, "server administrator") : (writer, "writer");
            before = await CountAsync();
            foreach (var call in Calls(operation, RandomFor(operation)))
            {
                var outcome = await SendAsync(http, call);
                calls++;
                if (Check(call, outcome) is { } failure)
                {
                    failures.Add($"{failure} (as {who})");
                }

                refused += outcome.Status >= 400 ? 1 : 0;
                if (call.Method is not ("GET" or "HEAD"))
                {
                    var after = await CountAsync();
                    if (outcome.Status >= 400 && Changed(before, after) is { } changed)
                    {
                        failures.Add($"{Describe(call)} as {who}: {outcome.Status} {outcome.Code}, but it changed {changed}");
                    }

                    before = after;
                }
            }

            if (operation.Method is "GET" or "HEAD")
            {
                var after = await CountAsync();
                if (Changed(before, after) is { } changed)
                {
                    failures.Add($"{operation}: reading changed {changed}");
                }

                before = after;
            }

            slowest.Add((started.Elapsed, calls - count, operation));
        }

        TestContext.Current.TestOutputHelper?.WriteLine($"{calls} hostile calls, {refused} refused; slowest operations: "
            + string.Join(", ", slowest.OrderByDescending(s => s.Took).Take(8).Select(s => $"{s.Operation.Id} {s.Calls} calls {s.Took.TotalSeconds:0.0} s")));
        Assert.True(calls > 1200 && refused > calls * 3 / 4, $"{calls} calls, {refused} refused: the generator tests too little");
        Assert.True(failures.Count == 0, Report(failures));
    }

    [Fact]
    public async Task MissingAndForgedTokensAreRefusedOnEveryOperationWithTheirCode()
    {
        var failures = new List<string>();
        var calls = 0;
        using var anonymous = NewHttp(null);
        foreach (var operation in _api.Operations)
        {
            var random = RandomFor(operation);
            // No token, and four of the forged ones (each of them on many operations).
            var forged = HostileValues.ForgedTokens(_writer.Token);
            foreach (var (name, header) in forged.Take(1).Concat(Pick(forged.Skip(1).ToList(), 4, random)))
            {
                var call = Baseline(operation) with { What = name, Headers = header is null ? [] : [("Authorization", header)] };
                var outcome = await SendAsync(anonymous, call);
                calls++;
                if (Check(call, outcome) is { } failure)
                {
                    failures.Add(failure);
                }
                else if (operation.Id != SignIn && (outcome.Status != 401 || (operation.Method != "HEAD" && !outcome.Code!.StartsWith("token_", StringComparison.Ordinal))))
                {
                    failures.Add($"{operation} with {name}: {outcome.Status} {outcome.Code}, expected 401 token_…");
                }
            }
        }

        Assert.True(calls > 450, $"only {calls} calls");
        Assert.True(failures.Count == 0, Report(failures));
    }

    // ---- The calls -------------------------------------------------------------------------------------------------

    private sealed record Call(OpenApiOperation Operation, string What, string Url, string? ContentType, byte[]? Body, (string Name, string Value)[] Headers, bool MustRefuse)
    {
        public string Method => Operation.Method;
    }

    private sealed record Outcome(int Status, string? Code, string? ProblemError, string Text);

    private IEnumerable<Call> Calls(OpenApiOperation operation, Random random)
    {
        var baseline = Baseline(operation);

        // Hostile path parameters, the others sensible.
        foreach (var parameter in operation.Parameters.Where(p => p.In == "path"))
        {
            foreach (var value in PathValues(parameter, random))
            {
                yield return baseline with
                {
                    What = $"path {{{parameter.Name}}} = {value.Name}",
                    Url = BuildUrl(operation, (parameter.Name, value.Url)),
                    MustRefuse = !value.MayResolveElsewhere && !value.MayBeAName,
                };
            }
        }

        // Hostile query parameters.
        foreach (var parameter in operation.Parameters.Where(p => p.In == "query"))
        {
            foreach (var (name, value, mustRefuse) in QueryValues(parameter, random))
            {
                yield return baseline with
                {
                    What = $"query {parameter.Name} = {name}",
                    Url = baseline.Url + (baseline.Url.Contains('?', StringComparison.Ordinal) ? "&" : "?") + parameter.Name + "=" + value,
                    MustRefuse = mustRefuse,
                };
            }
        }

        // Hostile bodies.
        if (operation.BodyMediaType == "application/json" && operation.BodySchema is { } schema)
        {
            foreach (var (name, body, mustRefuse) in BodyValues(operation, _api.Resolve(schema), random))
            {
                yield return baseline with { What = "body " + name, Body = body, MustRefuse = mustRefuse };
            }

            foreach (var contentType in Pick(HostileValues.ContentTypes, 2, random))
            {
                var json = contentType is not null && contentType.StartsWith("application/json", StringComparison.Ordinal);
                yield return baseline with { What = $"Content-Type: {contentType ?? "(none)"}", ContentType = contentType, MustRefuse = !json };
            }
        }
        else if (operation.BodyMediaType is not null)
        {
            // A byte body (uploads): sent as JSON, as text, without a type.
            foreach (var contentType in new[] { "application/json", "text/html", null })
            {
                yield return baseline with { What = $"bytes with Content-Type: {contentType ?? "(none)"}", ContentType = contentType, Body = "{\"a\":1}"u8.ToArray() };
            }
        }

        // Odd headers on a sensible request.
        foreach (var accept in Pick(HostileValues.Accepts, 2, random))
        {
            yield return baseline with { What = $"Accept: {accept}", Headers = [("Accept", accept)] };
        }

        if (operation.Method is "PUT" or "PATCH" or "DELETE")
        {
            yield return random.Next(2) == 0
                ? baseline with { What = "If-Match: garbage", Headers = [("If-Match", "\"garbage\"")] }
                : baseline with { What = "If-Match: huge", Headers = [("If-Match", "W/\"" + new string('x', 4000) + "\"")] };
        }

        if (operation.Method == "POST")
        {
            yield return baseline with { What = "Idempotency-Key: huge", Headers = [("Idempotency-Key", new string('k', 4000))] };
        }

        if (operation.Method == "GET")
        {
            yield return random.Next(2) == 0
                ? baseline with { What = "Range: garbage", Headers = [("Range", "bytes=9-3,-0,x-y")] }
                : baseline with { What = "Range: beyond long", Headers = [("Range", "bytes=99999999999999999999-")] };
        }
    }

    /// <summary>The operation called sensibly: existing namespace, model, version, alias…; DELETEs aim at things that do not exist.</summary>
    private Call Baseline(OpenApiOperation operation)
    {
        var body = operation.BodyMediaType == "application/json" && operation.BodySchema is { } schema
            ? Encoding.UTF8.GetBytes(Example(schema, OpenApiOperations.RefName(operation.BodySchema) ?? "", null, 0)!.ToJsonString())
            : operation.BodyMediaType is not null ? new byte[16] : null;
        var contentType = operation.BodyMediaType is null ? null : operation.BodyMediaType == "application/json" ? "application/json" : operation.BodyMediaType;
        return new Call(operation, "baseline", BuildUrl(operation), contentType, body, [], MustRefuse: false);
    }

    private string BuildUrl(OpenApiOperation operation, (string Name, string Url)? hostile = null)
    {
        var deleting = operation.Method == "DELETE";
        var url = operation.Path;
        foreach (var parameter in operation.Parameters.Where(p => p.In == "path"))
        {
            var value = hostile is { } h && h.Name == parameter.Name ? h.Url : HostileValues.Encode(Sensible(operation, parameter.Name, deleting));
            url = url.Replace("{" + parameter.Name + "}", value, StringComparison.Ordinal);
        }

        return url;
    }

    private string Sensible(OpenApiOperation operation, string parameter, bool deleting) => parameter switch
    {
        "namespace" => Ns,
        "model" => deleting ? "ghost" : Model,
        "selector" => deleting ? "999" : "1",
        "alias" => deleting ? "ghost" : "champion",
        "stage" => deleting ? "nostage" : "staging",
        "path" => "f.bin",
        "user" => deleting ? "nobody" : "someone",
        "team" => deleting ? "noteam" : "crew",
        "id" => deleting ? (operation.Path.Contains("uploads", StringComparison.Ordinal) ? "ghost" : "999999")
            : _ids[operation.Path.Contains("deliveries", StringComparison.Ordinal) ? "deliveries"
                : new[] { "requests", "webhooks", "uploads", "tokens", "runs" }.First(r => operation.Path.Contains("/" + r + "/", StringComparison.Ordinal))],
        _ => "x",
    };

    private static IEnumerable<HostileValue> PathValues(OpenApiParameter parameter, Random random)
    {
        var values = Pick(HostileValues.Strings, 3, random).ToList();
        values.Add(HostileValues.Strings.Single(v => v.Name == "trailing newline"));
        if (parameter.Type == "integer")
        {
            values.AddRange(Pick(HostileValues.AbsurdNumbers, 3, random).Select(n => new HostileValue("number " + n.Name, n.Json, HostileValues.Encode(n.Json))));
        }

        return values.DistinctBy(v => v.Name);
    }

    private static IEnumerable<(string Name, string Url, bool MustRefuse)> QueryValues(OpenApiParameter parameter, Random random)
    {
        switch (parameter.Type)
        {
            case "integer" or "number":
                yield return random.Next(2) == 0 ? ("not a number", "abc", true) : ("a thousand digits", new string('9', 1000), true);
                foreach (var (name, json) in Pick(HostileValues.AbsurdNumbers, 2, random))
                {
                    yield return (name, HostileValues.Encode(json), false);
                }

                break;
            case "boolean":
                yield return random.Next(2) == 0 ? ("maybe", "maybe", true) : ("2", "2", true);
                break;
            default:
                foreach (var value in Pick(HostileValues.Strings, 3, random))
                {
                    yield return (value.Name, value.Url, false);
                }

                if (parameter.Name == "q")
                {
                    foreach (var filter in new[]
                    {
                        "tags.t like 'a\\\\'", "tags.t like '" + string.Concat(Enumerable.Repeat("%a", 40)) + "%b'", "metrics.auc > 1e309",
                        new string('(', 1000), string.Join(" or ", Enumerable.Range(0, 201).Select(i => $"version={i}")), "created > '9999-12-31T23:59:59-14:00'",
                        "size > 9223372036854775807", "version in (" + string.Join(",", Enumerable.Range(0, 300)) + ")", "tags.`\u0000` = '\uFEFF'",
                    })
                    {
                        yield return ("filter " + (filter.Length > 40 ? filter[..40] + "…" : filter), HostileValues.Encode(filter), false);
                    }
                }

                break;
        }
    }

    /// <summary>Structural damage to the whole body, then one hostile value at a time in each field of a sensible body.</summary>
    private IEnumerable<(string Name, byte[] Body, bool MustRefuse)> BodyValues(OpenApiOperation operation, JsonObject schema, Random random)
    {
        var refName = OpenApiOperations.RefName(operation.BodySchema!) ?? "";
        var example = Example(schema, refName, null, 0)!;
        var text = example.ToJsonString();
        var isObject = OpenApiOperations.MainType(schema) == "object";
        var nullable = OpenApiOperations.Nullable(operation.BodySchema!);
        byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);

        var structural = new List<(string Name, byte[] Body, bool MustRefuse)>
        {
            ("empty", [], !nullable),
            ("not JSON", Utf8("<html>"), true),
            ("null", Utf8("null"), !nullable),
            ("a string", Utf8("\"x\""), true),
            ("nested 10000 deep", Utf8(new string('[', 10_000) + new string(']', 10_000)), true),
            ("trailing garbage", Utf8(text + "}x"), true),
            ("a comment", Utf8("/* x */" + text), true),
            ("invalid UTF-8", [.. Utf8(text[..^1]), 0xFF, 0xFE, .. Utf8("}")], isObject),
            ("NaN", Utf8("{\"x\":NaN}"), true),
        };
        if (isObject)
        {
            structural.Add(("an array", Utf8("[]"), true));
            structural.Add(("unknown field", Utf8(text[..^1] + (text.Length > 2 ? "," : "") + "\"zzz\":1}"), true));
            var first = example.AsObject().FirstOrDefault();
            if (first.Key is not null)
            {
                structural.Add(("duplicate field", Utf8(text[..^1] + "," + JsonSerializer.Serialize(first.Key) + ":" + (first.Value?.ToJsonString() ?? "null") + "}"), true));
            }
        }

        yield return ("truncated", Utf8(text[..(text.Length / 2)]), true);
        foreach (var damaged in Pick(structural, 5, random))
        {
            yield return damaged;
        }

        foreach (var (path, fieldSchema, fieldNullable, field, owner) in Slots(schema, refName, example))
        {
            foreach (var (name, replacement, mustRefuse) in field == "key" ? KeyValues(random) : FieldValues(fieldSchema, fieldNullable, field, owner, random))
            {
                var copy = example.DeepClone();
                Replace(copy, path, replacement);
                yield return ($"{Show(path)} = {name}", Utf8(HostileValues.ToJson(copy?.ToJsonString() ?? "null")), mustRefuse);
            }
        }
    }

    /// <summary>Each place of the example body: its JSON path, its schema, its field name and the schema it belongs to.</summary>
    private IEnumerable<(List<object> Path, JsonObject Schema, bool Nullable, string Field, string Owner)> Slots(JsonObject schema, string owner, JsonNode? example, List<object>? path = null, int depth = 0)
    {
        path ??= [];
        if (depth > 4 || example is null)
        {
            yield break;
        }

        if (example is JsonObject objectExample && schema["properties"] is JsonObject properties)
        {
            foreach (var (name, propertySchema) in properties)
            {
                var resolved = _api.Resolve(propertySchema!.AsObject());
                List<object> here = [.. path, name];
                yield return (here, resolved, OpenApiOperations.Nullable(propertySchema.AsObject()), name, owner);
                foreach (var slot in Slots(resolved, OpenApiOperations.RefName(propertySchema.AsObject()) ?? owner, objectExample[name], here, depth + 1))
                {
                    yield return slot;
                }
            }
        }
        else if (example is JsonArray { Count: > 0 } array && schema["items"] is JsonObject items)
        {
            var resolved = _api.Resolve(items);
            List<object> here = [.. path, 0];
            yield return (here, resolved, OpenApiOperations.Nullable(items), path.LastOrDefault() as string ?? "", owner);
            foreach (var slot in Slots(resolved, OpenApiOperations.RefName(items) ?? owner, array[0], here, depth + 1))
            {
                yield return slot;
            }
        }
        else if (example is JsonObject { Count: > 0 } map && schema["additionalProperties"] is JsonObject values)
        {
            var key = map.First().Key;
            yield return ([.. path, new MapKey(key)], new JsonObject { ["type"] = "string" }, false, "key", owner);
            yield return ([.. path, key], _api.Resolve(values), OpenApiOperations.Nullable(values), path.LastOrDefault() as string ?? "", owner);
        }
    }

    private sealed record MapKey(string Key);

    /// <summary>Keys of metrics, params and tags (docs/api.md): letters, digits, '_', '.', '-', '/'; 1-128 characters, not starting with punctuation.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9_][A-Za-z0-9_.\-/]{0,127}\z")]
    private static partial System.Text.RegularExpressions.Regex KeyGrammar();

    /// <summary>A dataset's digest as the server accepts it (VersionRequestValidator): <c>algorithm:value</c>.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^[A-Za-z0-9_+.-]{1,32}:[A-Za-z0-9+/=._-]{1,200}\z")]
    private static partial System.Text.RegularExpressions.Regex DatasetDigestGrammar();

    /// <summary>Hostile keys of a map (metrics, params, tags): refused unless the documented key grammar allows them.</summary>
    private static IEnumerable<(string Name, JsonNode? Value, bool MustRefuse)> KeyValues(Random random) =>
        Pick(HostileValues.Strings, 3, random).Select(v => (v.Name, (JsonNode?)v.Text, !KeyGrammar().IsMatch(v.Text)));

    private static IEnumerable<(string Name, JsonNode? Value, bool MustRefuse)> FieldValues(JsonObject schema, bool nullable, string field, string owner, Random random)
    {
        var type = OpenApiOperations.MainType(schema);
        var identifier = IdentifierFields.Contains(field) || (field == "name" && NamedSchemas.Contains(owner));
        if (!nullable)
        {
            yield return ("null", null, true);
        }

        switch (type)
        {
            case "string":
                yield return Pick<(string, JsonNode?, bool)>([("a number", 123, true), ("an object", new JsonObject(), true), ("an array", new JsonArray(), true)], 1, random).Single();
                // NUL in every text field: PostgreSQL cannot store it, so it finds what a database-only check would miss.
                foreach (var value in Pick(HostileValues.Strings.Where(v => v.Name != "NUL").ToList(), 2, random).Append(HostileValues.Strings.Single(v => v.Name == "NUL")))
                {
                    // A trailing newline, a zero-width space or an emoji may be fine in free text, never in a name. A dataset's
                    // digest is any algorithm:value (md5 of a DVC file, sha512 …), not only a blob's sha256.
                    var refused = (owner, field) == ("DatasetRef", "digest") ? !DatasetDigestGrammar().IsMatch(value.Text) : identifier && !value.MayBeAName;
                    yield return (value.Name, value.Text, refused);
                }

                break;
            case "integer" or "number":
                yield return Pick<(string, JsonNode?, bool)>([("a word", "abc", true), ("true", true, true), ("an array", new JsonArray(1), true)], 1, random).Single();
                foreach (var (name, json) in Pick(HostileValues.AbsurdNumbers, 3, random))
                {
                    // Beyond every number type, or beyond the integer types for a whole number.
                    var refused = name is "1e309" or "-1e309" or "a thousand digits" || (type == "integer" && name is "fraction" or "beyond long" or "tiny");
                    yield return ("number " + name, JsonNode.Parse(json), refused);
                }

                break;
            case "boolean":
                yield return ("a string", "true", true);
                yield return ("a number", 1, true);
                break;
            case "array":
                yield return Pick<(string, JsonNode?, bool)>([("an object", new JsonObject(), true), ("a string", "x", true)], 1, random).Single();
                yield return ("ten thousand nulls", new JsonArray(Enumerable.Repeat<JsonNode?>(null, 10_000).ToArray()), true);
                break;
            case "object":
                yield return ("a string", "x", true);
                yield return ("an array", new JsonArray(), true);
                break;
        }
    }

    /// <summary>A sensible value for a schema: plausible values for the fields the registry knows, null for optional nullable fields.</summary>
    private JsonNode? Example(JsonObject schema, string owner, string? field, int depth)
    {
        schema = _api.Resolve(schema);
        (bool Known, JsonNode? Value) plausible = (owner, field) switch
        {
            ("CreateTokenRequest", "user") => (true, null),
            (_, "team") => (true, null),
            ("CreateNamespaceRequest", "name") => (true, "fuzz-new"),
            ("CreateModelRequest", "name") => (true, "m-new"),
            ("CreateUserRequest", "name") => (true, "user-new"),
            ("CreateTeamRequest", "name") => (true, "team-new"),
            ("CreateVersionRequest", "version") => (true, "9.9.9"),
            ("SetAliasRequest", "version") => (true, "1"),
            ("SignInRequest", "user") => (true, "writer"),
            (_, "path") => (true, "f.bin"),
            (_, "size") => (true, 32),
            (_, "digest" or "digests") => (true, HostileValues.ZeroDigest),
            (_, "role") => (true, "reader"),
            (_, "user") => (true, "someone"),
            (_, "stage") => (true, "staging"),
            (_, "url") => (true, "http://127.0.0.1:9/hook"),
            (_, "environment") => (true, "prod"),
            (_, "status") => (true, "live"),
            (_, "olderThan") => (true, "3650.00:00:00"),
            (_, "uri") => (true, "s3://bucket/data"),
            (_, "scopes") => (true, "read"),
            (_, "keepStages") => (true, "production"),
            (_, "parents") => (true, "fuzz/m:1"),
            _ => (false, null),
        };
        if (plausible.Known && OpenApiOperations.MainType(schema) != "array")
        {
            return plausible.Value;
        }

        switch (OpenApiOperations.MainType(schema))
        {
            case "object" when schema["properties"] is JsonObject properties:
                var required = (schema["required"]?.AsArray() ?? []).Select(r => r!.GetValue<string>()).ToHashSet(StringComparer.Ordinal);
                var result = new JsonObject();
                foreach (var (name, property) in properties)
                {
                    var propertySchema = _api.Resolve(property!.AsObject());
                    if (required.Contains(name) || OpenApiOperations.Nullable(property.AsObject()) && depth < 3)
                    {
                        // Optional fields are present as null, so that a hostile value can take their place one at a time;
                        // arrays and maps carry one sensible element each.
                        var kind = OpenApiOperations.MainType(propertySchema);
                        result[name] = required.Contains(name) || kind is "array" or "object"
                            ? Example(propertySchema, OpenApiOperations.RefName(property.AsObject()) ?? owner, name, depth + 1)
                            : null;
                    }
                }

                return result;
            case "object" when schema["additionalProperties"] is JsonObject values:
                return new JsonObject { ["k"] = Example(values, owner, field, depth + 1) };
            case "object":
                return new JsonObject();
            case "array" when schema["items"] is JsonObject items:
                return new JsonArray(Example(items, OpenApiOperations.RefName(items) ?? owner, field, depth + 1));
            case "integer":
                return 1;
            case "number":
                return 0.5;
            case "boolean":
                return false;
            default:
                return schema["format"]?.GetValue<string>() == "date-time" ? "2030-01-01T00:00:00Z" : "text";
        }
    }

    private static void Replace(JsonNode? root, List<object> path, JsonNode? value)
    {
        var parent = root!;
        foreach (var step in path.SkipLast(1))
        {
            parent = step is int index ? parent[index]! : parent[(string)step]!;
        }

        switch (path[^1])
        {
            case int index:
                parent.AsArray()[index] = value;
                break;
            case MapKey key:
                var map = parent.AsObject();
                var old = map[key.Key]?.DeepClone();
                map.Remove(key.Key);
                map[value is JsonValue text && text.TryGetValue<string>(out var name) ? name : value?.ToJsonString() ?? "null"] = old;
                break;
            case string field:
                parent.AsObject()[field] = value;
                break;
        }
    }

    private static string Show(List<object> path) =>
        "$" + string.Concat(path.Select(p => p switch { int i => $"[{i}]", MapKey => "{key}", _ => "." + p }));

    /// <summary>
    /// Each operation's own generator, seeded from the fixed seed and its id: an operation's inputs stay the same when
    /// another operation is added to the API, so a new endpoint never changes what the others are tested with.
    /// </summary>
    private static Random RandomFor(OpenApiOperation operation) =>
        new(Seed ^ BitConverter.ToInt32(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(operation.Id))));

    private static IEnumerable<T> Pick<T>(IReadOnlyList<T> items, int count, Random random) =>
        items.OrderBy(_ => random.Next()).Take(count).ToList();

    // ---- Sending and judging ------------------------------------------------------------------------------------

    private HttpClient NewHttp(string? token)
    {
        var http = _server.NewHttp(token);
        http.Timeout = TimeSpan.FromSeconds(60);
        return http;
    }

    private async Task<Outcome> SendAsync(HttpClient http, Call call)
    {
        // The URL is sent as written: encoded slashes, dot segments and percent-escapes reach the server untouched.
        var uri = new Uri(_server.Address.GetLeftPart(UriPartial.Authority) + call.Url, new UriCreationOptions { DangerousDisablePathAndQueryCanonicalization = true });
        using var request = new HttpRequestMessage(new HttpMethod(call.Method), uri);
        if (call.Body is not null)
        {
            request.Content = new ByteArrayContent(call.Body);
            if (call.ContentType is not null)
            {
                request.Content.Headers.TryAddWithoutValidation("Content-Type", call.ContentType);
            }
        }

        foreach (var (name, value) in call.Headers)
        {
            if (name == "Authorization")
            {
                request.Headers.Authorization = AuthenticationHeaderValue.TryParse(value, out var parsed) ? parsed : null;
                if (request.Headers.Authorization is null)
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }
            else
            {
                request.Headers.TryAddWithoutValidation(name, value);
            }
        }

        // Headers first: a successful event stream never ends, a download need not be read.
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, Ct);
        var status = (int)response.StatusCode;
        if (status < 400)
        {
            // A write's answer is read to its end: a streamed one (a scrub) is over only then, so its work cannot land
            // during the next call and be blamed on it.
            if (call.Method is not ("GET" or "HEAD"))
            {
                await (await response.Content.ReadAsStreamAsync(Ct)).CopyToAsync(Stream.Null, Ct);
            }

            return new Outcome(status, null, null, "");
        }

        var mediaType = response.Content.Headers.ContentType?.MediaType;
        var text = call.Method == "HEAD" ? "" : await response.Content.ReadAsStringAsync(Ct);
        if (mediaType != "application/problem+json")
        {
            return new Outcome(status, null, $"Content-Type {mediaType ?? "(none)"}, not application/problem+json", text);
        }

        if (call.Method == "HEAD")
        {
            return new Outcome(status, null, null, "");
        }

        try
        {
            using var problem = JsonDocument.Parse(text);
            var root = problem.RootElement;
            var code = root.TryGetProperty("code", out var c) ? c.GetString() : null;
            var bodyStatus = root.TryGetProperty("status", out var s) && s.ValueKind == JsonValueKind.Number ? s.GetInt32() : 0;
            string? error = code is null || !ErrorCodes.All.TryGetValue(code, out var documented) ? $"undocumented code '{code}'"
                : documented.Status != status ? $"code '{code}' is documented with {documented.Status}, sent with {status}"
                : bodyStatus != status ? $"problem status {bodyStatus} differs from {status}"
                : root.TryGetProperty("type", out var t) && t.GetString() == ErrorCodes.TypeUriPrefix + code ? null : "wrong problem type";
            return new Outcome(status, code, error, text);
        }
        catch (JsonException)
        {
            return new Outcome(status, null, "a problem body that is not JSON", text);
        }
    }

    private static string? Check(Call call, Outcome outcome)
    {
        if (outcome.Status >= 500)
        {
            return $"{Describe(call)}: {outcome.Status} {Shorten(outcome.Text)}";
        }

        // Kestrel itself refuses a NUL in the path (a bare 400, before the application runs): nothing to answer with a problem.
        if (outcome.Status == 400 && outcome.Text.Length == 0 && call.Url.Contains("%00", StringComparison.Ordinal))
        {
            return null;
        }

        if (outcome.Status >= 400 && outcome.ProblemError is not null)
        {
            return $"{Describe(call)}: {outcome.Status} with {outcome.ProblemError}: {Shorten(outcome.Text)}";
        }

        return call.MustRefuse && outcome.Status < 400 ? $"{Describe(call)}: accepted ({outcome.Status}), must be refused" : null;
    }

    private static string Describe(Call call) =>
        $"{call.Operation} with {call.What} [{call.Method} {Shorten(call.Url)}{(call.Body is { Length: > 0 } b ? " " + Shorten(Encoding.UTF8.GetString(b)) : "")}]";

    private static string Shorten(string text)
    {
        var shown = text.Length <= 160 ? text : text[..160] + $"…({text.Length} chars)";
        return string.Concat(shown.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\u{(int)c:X4}"));
    }

    private static string Report(List<string> failures) =>
        $"{failures.Count} failures:\n" + string.Join('\n', failures.Take(60)) + (failures.Count > 60 ? "\n…" : "");

    // ---- What is stored -------------------------------------------------------------------------------------------

    /// <summary>
    /// One query counting the rows of every table that holds registry data. Left out, with their reasons: sign-in
    /// throttles (refused sign-ins count, by design), idempotency records (a refused answer to a keyed request is
    /// replayed, by design), leases (coordination, taken by uploads whatever the outcome), webhook deliveries and
    /// attempts (written by the delivery worker in the background), data-protection keys and scrub runs.
    /// </summary>
    private (string Sql, int Count) CountQuery()
    {
        using var scope = _server.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        var skipped = new HashSet<string>(StringComparer.Ordinal) { "SignInThrottle", "IdempotencyRecord", "Lease", "WebhookDelivery", "WebhookAttempt", "DataProtectionKey", "ScrubRun" };
        var tables = db.Model.GetEntityTypes()
            .Where(t => !skipped.Contains(t.ClrType.Name) && t.GetTableName() is not null && t.BaseType is null)
            .Select(t => (t.GetSchema() is { } schema ? $"\"{schema}\"." : "") + $"\"{t.GetTableName()}\"")
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.True(tables.Count >= 20, "tables: " + string.Join(", ", tables));
        return ("SELECT " + string.Join(", ", tables.Select(t => $"(SELECT COUNT(*) FROM {t})")), tables.Count);
    }

    private async Task<long[]> CountAsync()
    {
        await using var scope = _server.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<RegistryDbContext>();
        await db.Database.OpenConnectionAsync(Ct);
        await using var command = db.Database.GetDbConnection().CreateCommand();
        command.CommandText = _countSql;
        await using var reader = await command.ExecuteReaderAsync(Ct);
        await reader.ReadAsync(Ct);
        var counts = new long[_tables + 1];
        for (var i = 0; i < _tables; i++)
        {
            counts[i] = Convert.ToInt64(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture);
        }

        counts[_tables] = Directory.EnumerateFiles(_server.DataDirectory, "*", SearchOption.AllDirectories).Count(f => !f.EndsWith(".db", StringComparison.Ordinal) && !f.Contains(".db-", StringComparison.Ordinal));
        return counts;
    }

    private string? Changed(long[] before, long[] after)
    {
        var changes = new List<string>();
        var names = _countSql["SELECT ".Length..].Split(", ").Select(s => s.Split("FROM ")[1].TrimEnd(')')).Append("files of the data folder").ToList();
        for (var i = 0; i < before.Length; i++)
        {
            if (before[i] != after[i])
            {
                changes.Add($"{names[i]} {before[i]} → {after[i]}");
            }
        }

        return changes.Count == 0 ? null : string.Join(", ", changes);
    }
}
