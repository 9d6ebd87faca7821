using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Berth.Contracts.Dtos;
using Berth.Contracts.Errors;
using Berth.Core.Errors;
using Microsoft.AspNetCore.Http;

namespace Berth.Server.Api.Http;

/// <summary>
/// Rules for the text of every request, so that what one database stores the other stores too and nothing reaches a
/// service half-formed: no string holds U+0000 or an unpaired surrogate (PostgreSQL cannot store either, and neither is
/// text), in bodies, query strings or anywhere else; and a body's list of strings holds no null (nullable annotations
/// are not enforced inside collections, so <c>"scopes": [null]</c> would reach the services as a null name).
/// </summary>
internal static class RequestText
{
    /// <summary>
    /// A contract modifier: once an object of a request body is read, its strings, lists of strings and string-keyed
    /// maps are checked. It changes no schema, so the OpenAPI document stays exact.
    /// </summary>
    public static void CheckBodies(JsonTypeInfo type)
    {
        if (type.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        // A file's path has a rule of its own that refuses both, with its own code and the offending paths (invalid_path).
        var checkedProperties = type.Properties.Where(p => p.Get is not null && !(type.Type == typeof(FileEntry) && p.Name == "path") && (p.PropertyType == typeof(string)
            || typeof(IEnumerable<string>).IsAssignableFrom(p.PropertyType)
            || typeof(IEnumerable<KeyValuePair<string, string>>).IsAssignableFrom(p.PropertyType)
            || typeof(IEnumerable<KeyValuePair<string, double>>).IsAssignableFrom(p.PropertyType))).ToList();
        if (checkedProperties.Count == 0)
        {
            return;
        }

        var previous = type.OnDeserialized;
        type.OnDeserialized = value =>
        {
            previous?.Invoke(value);
            foreach (var property in checkedProperties)
            {
                Check(property.Name, property.Get!(value));
            }
        };
    }

    /// <summary>Refuses a query string with a NUL or an unpaired surrogate before anything reads it (Kestrel already refuses them in paths).</summary>
    public static Task CheckQueryAsync(HttpContext context, Func<Task> next)
    {
        foreach (var (name, values) in context.Request.Query)
        {
            if (!IsText(name) || values.Any(v => v is not null && !IsText(v)))
            {
                throw Refused($"the query parameter '{Show(name)}'");
            }
        }

        return next();
    }

    private static void Check(string name, object? value)
    {
        switch (value)
        {
            case string text when !IsText(text):
                throw Refused($"'{name}'");
            case string:
                return;
            case IEnumerable<string?> list:
                foreach (var item in list)
                {
                    if (item is null)
                    {
                        throw new JsonException($"'{name}' may not hold null: give strings only");
                    }

                    Check(name, item);
                }

                return;
            case IEnumerable<KeyValuePair<string, string>> map:
                foreach (var (key, text) in map)
                {
                    Check(name, key);
                    Check(name, text);
                }

                return;
            case IEnumerable<KeyValuePair<string, double>> numbers:
                foreach (var (key, _) in numbers)
                {
                    Check(name, key);
                }

                return;
        }
    }

    private static bool IsText(string text)
    {
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '\0' || (char.IsSurrogate(c) && !char.IsSurrogatePair(text, i++)))
            {
                return false;
            }
        }

        return true;
    }

    private static RegistryException Refused(string where) =>
        new(ErrorCodes.InvalidRequest, $"{where} contains a NUL character (U+0000) or an unpaired surrogate, which no Berth text may hold.");

    private static string Show(string text) => text.Length <= 40 ? text.Replace("\0", "\\0", StringComparison.Ordinal) : text[..40] + "…";
}
