using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Berth.Contracts.Errors;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Berth.Server.Api.Problems;

/// <summary>
/// Says what is wrong with a malformed request in the API's own terms: JSON types (a number, a string, an array…)
/// at a JSON path, field names as the client sends them, query and route parameters by name. The serializer's and
/// the parameter binder's messages name .NET types (<c>System.Double</c>, <c>Berth.Contracts.Dtos…</c>), which mean
/// nothing to a client and describe the server's insides; no detail built here contains one.
/// </summary>
internal static partial class RequestErrors
{
    /// <summary>
    /// A JSON body the serializer refused: unknown fields are <c>unknown_field</c>, everything else <c>invalid_json</c>.
    /// The expected type is read from the endpoint's body type at the error's path (the serializer's message often
    /// names an enclosing type instead).
    /// </summary>
    public static (ErrorCode Code, string Detail) Describe(JsonException e, HttpContext context)
    {
        var reason = e.Message.Split(" Path:", 2)[0].Trim();
        var path = e.Path is { Length: > 0 } p ? p : "$";
        var where = e.LineNumber is { } line ? $" (line {line + 1}, byte {e.BytePositionInLine + 1})" : "";
        string Invalid(string what) => $"The JSON body is invalid: {what}{where}.";
        var json = context.RequestServices.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
        string Field(string name) => json.PropertyNamingPolicy?.ConvertName(name) ?? name;

        if (UnmappedProperty().Match(reason) is { Success: true } unmapped)
        {
            return (ErrorCodes.UnknownField, Invalid($"unknown field '{unmapped.Groups["name"].Value}' at {path}"));
        }

        if (Conversion().Match(reason) is { Success: true } conversion)
        {
            // The exception handler has taken the endpoint off the context; its feature keeps it.
            var endpoint = context.GetEndpoint() ?? context.Features.Get<IExceptionHandlerFeature>()?.Endpoint;
            var expected = endpoint?.Metadata.GetMetadata<IAcceptsMetadata>()?.RequestType is { } body && TypeAt(json, body, path) is { } type
                ? JsonType(json, type)
                : JsonType(conversion.Groups["type"].Value);
            return (ErrorCodes.InvalidJson, Invalid($"expected {expected} at {path}"));
        }

        if (MissingRequired().Match(reason) is { Success: true } missing)
        {
            var names = Quoted().Replace(missing.Groups["names"].Value.TrimEnd('.'), m => $"'{Field(m.Groups[1].Value)}'");
            return (ErrorCodes.InvalidJson, Invalid($"missing required field{(names.Contains(',', StringComparison.Ordinal) ? "s" : "")} {names} at {path}"));
        }

        if (Duplicate().Match(reason) is { Success: true } duplicate)
        {
            return (ErrorCodes.InvalidJson, Invalid($"duplicate field '{duplicate.Groups["name"].Value}' at {path}"));
        }

        if (NullNotAllowed().Match(reason) is { Success: true } nulled)
        {
            return (ErrorCodes.InvalidJson, Invalid($"'{Field(nulled.Groups["name"].Value)}' may not be null at {path}"));
        }

        // Syntax errors ("'x' is an invalid start of a value") are in JSON terms already; anything else that names a
        // type is reduced to where it happened.
        return (ErrorCodes.InvalidJson, Invalid(NamesAType().IsMatch(reason)
            ? $"a value at {path} does not fit this field"
            : $"{reason.TrimEnd('.')} at {path}"));
    }

    /// <summary>
    /// A query, route or header parameter that could not be read (<c>Failed to bind parameter "int? limit" from "abc".</c>),
    /// or null when the message is not one of those.
    /// </summary>
    public static string? DescribeParameter(BadHttpRequestException e)
    {
        if (BindingFailed().Match(e.Message) is { Success: true } failed)
        {
            return $"'{failed.Groups["name"].Value}' must be {ParameterType(failed.Groups["type"].Value)}, not '{Shown(failed.Groups["value"].Value)}'.";
        }

        if (NotProvided().Match(e.Message) is { Success: true } missing && missing.Groups["source"].Value != "body")
        {
            var name = missing.Groups["name"].Value;
            return missing.Groups["source"].Value switch
            {
                "query string" => $"The query parameter '{name}' is required.",
                "header" => $"The header '{name}' is required.",
                var source => $"'{name}' is required (in the {source}).",
            };
        }

        return null;
    }

    /// <summary>
    /// Which query or route parameter could not be read, for a 400 the endpoint's parameter binding answered without a
    /// word (as the generated binder does for optional numbers and dates); null when none can be found.
    /// </summary>
    public static string? DescribeUnboundParameter(HttpContext context)
    {
        var parameters = context.GetEndpoint()?.Metadata.GetOrderedMetadata<IParameterBindingMetadata>() ?? [];
        foreach (var parameter in parameters.Where(p => p.HasTryParse))
        {
            var value = context.Request.RouteValues.TryGetValue(parameter.Name, out var routeValue) && routeValue is string fromRoute
                ? fromRoute
                : context.Request.Query[parameter.Name].ToString();
            if (value.Length == 0)
            {
                continue;
            }

            var type = Nullable.GetUnderlyingType(parameter.ParameterInfo.ParameterType) ?? parameter.ParameterInfo.ParameterType;
            if (Parses(type, value) is false)
            {
                return $"'{parameter.Name}' must be {ParameterType(type.Name)}, not '{Shown(value)}'.";
            }
        }

        return null;
    }

    /// <summary>Whether <paramref name="value"/> reads as <paramref name="type"/> the way the binder reads it; null for types not known here.</summary>
    private static bool? Parses(Type type, string value)
    {
        var invariant = CultureInfo.InvariantCulture;
        return type switch
        {
            _ when type == typeof(int) => int.TryParse(value, invariant, out _),
            _ when type == typeof(long) => long.TryParse(value, invariant, out _),
            _ when type == typeof(short) => short.TryParse(value, invariant, out _),
            _ when type == typeof(double) => double.TryParse(value, invariant, out _),
            _ when type == typeof(decimal) => decimal.TryParse(value, invariant, out _),
            _ when type == typeof(bool) => bool.TryParse(value, out _),
            _ when type == typeof(DateTimeOffset) => DateTimeOffset.TryParse(value, invariant, out _),
            _ when type == typeof(DateTime) => DateTime.TryParse(value, invariant, out _),
            _ when type == typeof(Guid) => Guid.TryParse(value, out _),
            _ => null,
        };
    }

    /// <summary>The .NET type a JSON path (<c>$.files[0].size</c>) leads to in <paramref name="root"/>, or null.</summary>
    private static Type? TypeAt(JsonSerializerOptions json, Type root, string path)
    {
        var type = root;
        foreach (Match step in PathStep().Matches(path))
        {
            type = Nullable.GetUnderlyingType(type) ?? type;
            JsonTypeInfo info;
            try
            {
                info = json.GetTypeInfo(type);
            }
            catch (NotSupportedException)
            {
                return null;
            }

            if (step.Groups["index"].Success)
            {
                type = info.Kind == JsonTypeInfoKind.Enumerable ? info.ElementType : null;
            }
            else
            {
                var name = step.Groups["name"].Success ? step.Groups["name"].Value : step.Groups["quoted"].Value;
                type = info.Kind switch
                {
                    JsonTypeInfoKind.Dictionary => info.ElementType,
                    JsonTypeInfoKind.Object => info.Properties.FirstOrDefault(p => string.Equals(p.Name, name, json.PropertyNameCaseInsensitive ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal))?.PropertyType,
                    _ => null,
                };
            }

            if (type is null)
            {
                return null;
            }
        }

        return type;
    }

    /// <summary>What JSON a type is read from: an array, an object, or one of the primitive kinds.</summary>
    private static string JsonType(JsonSerializerOptions json, Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        var kind = json.GetTypeInfo(type).Kind;
        return kind switch
        {
            JsonTypeInfoKind.Enumerable => "an array",
            JsonTypeInfoKind.Dictionary or JsonTypeInfoKind.Object => "an object",
            _ => JsonType(type.FullName ?? type.Name),
        };
    }

    /// <summary>A .NET type as the JSON a client should have sent.</summary>
    internal static string JsonType(string typeName)
    {
        var name = typeName.Trim();
        if (name.StartsWith("System.Nullable`1[", StringComparison.Ordinal) && name.EndsWith(']'))
        {
            name = name["System.Nullable`1[".Length..^1];
        }

        return name switch
        {
            "System.Double" or "System.Single" or "System.Decimal" or "System.Half" => "a number",
            "System.Int16" or "System.Int32" or "System.Int64" or "System.UInt16" or "System.UInt32" or "System.UInt64"
                or "System.Byte" or "System.SByte" or "System.Int128" or "System.UInt128" => "a whole number (within range)",
            "System.String" or "System.Char" => "a string",
            "System.Boolean" => "true or false",
            "System.DateTimeOffset" or "System.DateTime" => "a date and time string such as \"2026-03-01T12:00:00Z\"",
            "System.DateOnly" => "a date string such as \"2026-03-01\"",
            "System.TimeSpan" => "a duration string such as \"1.00:00:00\"",
            "System.Guid" => "a UUID string",
            _ when name.EndsWith("[]", StringComparison.Ordinal) || Sequence().IsMatch(name) => "an array",
            _ => "an object",
        };
    }

    /// <summary>A parameter type as the binder prints it (<c>int?</c>, <c>long</c>, <c>DateTimeOffset?</c>).</summary>
    private static string ParameterType(string type) =>
        type.Replace("global::", "", StringComparison.Ordinal).Replace("System.", "", StringComparison.Ordinal).TrimEnd('?') switch
        {
            "int" or "long" or "short" or "Int32" or "Int64" or "Int16" or "uint" or "ulong" or "ushort" or "byte" or "UInt32" or "UInt64" => "a whole number",
            "double" or "float" or "decimal" or "Double" or "Single" or "Decimal" => "a number",
            "bool" or "Boolean" => "true or false",
            "DateTimeOffset" or "DateTime" => "a date and time such as 2026-03-01T12:00:00Z",
            "Guid" => "a UUID",
            _ => "a valid value",
        };

    private static string Shown(string value) => value.Length <= 80 ? value : value[..80] + "…";

    [GeneratedRegex("^The JSON property '(?<name>.*)' could not be mapped to any .NET member")]
    private static partial Regex UnmappedProperty();

    [GeneratedRegex("^The JSON value could not be converted to (?<type>.+?)\\.?$")]
    private static partial Regex Conversion();

    [GeneratedRegex("was missing required properties(?: including)?: (?<names>.+)$")]
    private static partial Regex MissingRequired();

    [GeneratedRegex("^Duplicate property '(?<name>.*)' encountered")]
    private static partial Regex Duplicate();

    [GeneratedRegex("(?:property or field|constructor parameter) '(?<name>[^']*)' on type '[^']*' doesn't allow (?:setting )?null")]
    private static partial Regex NullNotAllowed();

    [GeneratedRegex("\\b(?:System|Berth|Microsoft)\\.[A-Za-z]")]
    private static partial Regex NamesAType();

    [GeneratedRegex("^System\\.Collections\\.(?:Generic\\.|Immutable\\.|Frozen\\.)?(?:I?List|IReadOnlyList|I?Enumerable|I?Collection|IReadOnlyCollection|HashSet|I?Set|IReadOnlySet|ImmutableArray|ImmutableList)`1")]
    private static partial Regex Sequence();

    [GeneratedRegex("'([^']*)'")]
    private static partial Regex Quoted();

    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>(?:[^']|'')*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex PathStep();

    [GeneratedRegex("^Failed to bind parameter \"(?<type>.+) (?<name>[^ ]+)\" from \"(?<value>.*)\"\\.$", RegexOptions.Singleline)]
    private static partial Regex BindingFailed();

    [GeneratedRegex("^Required parameter \"(?<type>.+) (?<name>[^ ]+)\" was not provided from (?<source>.+?)\\.$")]
    private static partial Regex NotProvided();
}
