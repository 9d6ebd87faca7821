using System.Buffers;
using System.Diagnostics;
using System.Text.Encodings.Web;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.ML.OnnxRuntime;
using Prometheus;

namespace Berth.Cli.Serving;

/// <summary>
/// The Open Inference Protocol's REST endpoints (KServe v2): health, server and model metadata, model readiness and
/// inference, for the one model this process serves, named by its registry name (<c>fraud</c>) with its version number as
/// the version. Every refusal is the protocol's <c>{"error": "…"}</c>, with a stable <c>code</c> beside it.
/// </summary>
internal sealed class InferenceEndpoints(string modelName, ModelHost host, ServingMetrics metrics, ServeModelOptions options) : IDisposable
{
    // Messages quote names ('x'): written as they are, not as \u0027 (the answers are JSON, never HTML).
    private static readonly JsonWriterOptions WriterOptions = new() { SkipValidation = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly RunOptions _runOptions = new();

    public void Map(WebApplication app)
    {
        app.MapGet("/v2/health/live", Live);
        app.MapGet("/v2/health/ready", Ready);
        app.MapGet("/v2", Server);
        app.MapGet("/v2/models/{name}", (HttpContext context, string name) => Metadata(context, name, null));
        app.MapGet("/v2/models/{name}/versions/{version}", (HttpContext context, string name, string version) => Metadata(context, name, version));
        app.MapGet("/v2/models/{name}/ready", (HttpContext context, string name) => ModelReady(context, name, null));
        app.MapGet("/v2/models/{name}/versions/{version}/ready", (HttpContext context, string name, string version) => ModelReady(context, name, version));
        app.MapPost("/v2/models/{name}/infer", (HttpContext context, string name) => InferAsync(context, name, null));
        app.MapPost("/v2/models/{name}/versions/{version}/infer", (HttpContext context, string name, string version) => InferAsync(context, name, version));
        app.MapMetrics("/metrics", metrics.Registry);
        app.MapFallback(NotFound);
    }

    private Task Live(HttpContext context) => Answer(context, "live", Ok, write: null);

    private Task Ready(HttpContext context) => Answer(context, "ready", () => host.IsReady ? Ok() : throw NotReady(), write: null);

    private Task Server(HttpContext context) => Answer(context, "server", Ok, ServerMetadata);

    private Task NotFound(HttpContext context) => Answer(context, "other", () =>
        throw new InferenceException(404, "not_found", $"No endpoint {context.Request.Method} {context.Request.Path}: serve-model answers the Open Inference Protocol under /v2 (docs/serving.md)."),
        write: null);

    private static Task<int> Ok() => Task.FromResult(200);

    private Task Metadata(HttpContext context, string name, string? version) => Answer(context, "metadata", async () =>
    {
        var model = Find(name, version);
        try
        {
            await WriteJsonAsync(context, writer => ModelMetadata(writer, model));
            return 200;
        }
        finally
        {
            model.Release();
        }
    }, write: null, written: true);

    private static void ModelMetadata(Utf8JsonWriter writer, ServedModel model)
    {
        writer.WriteStartObject();
        writer.WriteString("name", model.Version.Model);
        writer.WriteStartArray("versions");
        writer.WriteStringValue(model.VersionText);
        writer.WriteEndArray();
        writer.WriteString("platform", "onnxruntime_onnx");
        WriteSpecs(writer, "inputs", model.Inputs);
        WriteSpecs(writer, "outputs", model.Outputs);
        writer.WriteStartObject("parameters");
        writer.WriteString("registry_reference", model.Version.Reference);
        writer.WriteString("manifest_digest", model.Version.ManifestDigest);
        writer.WriteString("file", model.Version.File);
        if (model.Version.SemVer is { } semver)
        {
            writer.WriteString("semver", semver);
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private Task ModelReady(HttpContext context, string name, string? version) => Answer(context, "ready", () =>
    {
        Find(name, version).Release();
        return Ok();
    }, write: null);

    private async Task InferAsync(HttpContext context, string name, string? version)
    {
        using var inFlight = metrics.InFlight.TrackInProgress();
        await Answer(context, "infer", async () =>
        {
            if (context.Request.ContentLength > options.MaxRequestBytes)
            {
                throw TooLarge();
            }

            // Checked before the body is read: a request for another model or version is refused without reading it.
            Find(name, version).Release();
            JsonDocument document;
            try
            {
                document = await JsonDocument.ParseAsync(context.Request.Body, default, context.RequestAborted);
            }
            catch (JsonException e)
            {
                throw new InferenceException(400, ServingErrors.InvalidJson, $"The request body is not valid JSON: {e.Message}");
            }
            catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
            {
                throw TooLarge();
            }

            using (document)
            {
                var model = Find(name, version);
                try
                {
                    using var request = InferenceRequest.Read(document.RootElement, model, options.MaxBatch);
                    var buffer = new ArrayBufferWriter<byte>(4096);
                    using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
                    {
                        InferenceResponse.Run(model, request, _runOptions, writer);
                    }

                    context.Response.StatusCode = 200;
                    context.Response.ContentType = "application/json";
                    context.Response.ContentLength = buffer.WrittenCount;
                    await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
                    return 200;
                }
                finally
                {
                    model.Release();
                }
            }
        }, write: null, written: true);
    }

    /// <summary>
    /// Runs <paramref name="handle"/> (its status), then writes the body (<paramref name="write"/>, unless the handler wrote
    /// it: <paramref name="written"/>), or the error of an <see cref="InferenceException"/>; counts and times the request.
    /// </summary>
    private async Task Answer(HttpContext context, string endpoint, Func<Task<int>> handle, Action<Utf8JsonWriter>? write, bool written = false)
    {
        var started = Stopwatch.GetTimestamp();
        int status;
        try
        {
            status = await handle();
            if (!written)
            {
                context.Response.StatusCode = status;
                if (write is not null)
                {
                    await WriteJsonAsync(context, write);
                }
            }
        }
        catch (InferenceException e)
        {
            status = e.Status;
            metrics.Error(e.Code);
            await WriteErrorAsync(context, e.Status, e.Code, e.Message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            status = 499;
        }
        catch (Exception e) when (e is OnnxRuntimeException or InvalidOperationException or ObjectDisposedException)
        {
            status = 500;
            metrics.Error(ServingErrors.InferenceFailed);
            await WriteErrorAsync(context, 500, ServingErrors.InferenceFailed, $"The inference failed: {e.Message.ReplaceLineEndings(" ")}");
        }

        metrics.Observe(endpoint, status, Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    /// <summary>The served model if <paramref name="name"/> and <paramref name="version"/> name it, with a reference the caller releases.</summary>
    private ServedModel Find(string name, string? version)
    {
        if (!string.Equals(name, modelName, StringComparison.Ordinal))
        {
            throw new InferenceException(404, ServingErrors.ModelNotFound, $"No model '{name}' is served here; this server serves '{modelName}'.");
        }

        var model = host.Acquire() ?? throw NotReady();
        if (version is not null && !string.Equals(version, model.VersionText, StringComparison.Ordinal))
        {
            var serving = model.VersionText;
            model.Release();
            throw new InferenceException(404, ServingErrors.VersionNotFound, $"Version '{version}' of model '{name}' is not served here; this server serves version {serving}.");
        }

        return model;
    }

    private static void ServerMetadata(Utf8JsonWriter writer)
    {
        writer.WriteStartObject();
        writer.WriteString("name", "berth");
        writer.WriteString("version", typeof(InferenceEndpoints).Assembly.GetName().Version?.ToString(3) ?? "0.0.0");
        writer.WriteStartArray("extensions");
        writer.WriteEndArray();
        writer.WriteEndObject();
    }

    private static void WriteSpecs(Utf8JsonWriter writer, string property, IReadOnlyList<TensorSpec> specs)
    {
        writer.WriteStartArray(property);
        foreach (var spec in specs)
        {
            writer.WriteStartObject();
            writer.WriteString("name", spec.Name);
            writer.WriteString("datatype", spec.Datatype);
            writer.WriteStartArray("shape");
            foreach (var dimension in spec.Shape)
            {
                writer.WriteNumberValue(dimension);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        writer.WriteEndArray();
    }

    private static async Task WriteJsonAsync(HttpContext context, Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            write(writer);
        }

        context.Response.ContentType = "application/json";
        context.Response.ContentLength = buffer.WrittenCount;
        await context.Response.Body.WriteAsync(buffer.WrittenMemory, context.RequestAborted);
    }

    private static Task WriteErrorAsync(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted)
        {
            return Task.CompletedTask;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        return WriteJsonAsync(context, writer =>
        {
            writer.WriteStartObject();
            writer.WriteString("error", message);
            writer.WriteString("code", code);
            writer.WriteEndObject();
        });
    }

    private InferenceException TooLarge() =>
        new(413, ServingErrors.BodyTooLarge, $"The request body is larger than {options.MaxRequestBytes} bytes (--max-request-bytes).");

    private static InferenceException NotReady() =>
        new(503, ServingErrors.NotReady, "The model is not loaded yet: /v2/health/ready answers 200 once it is.");

    public void Dispose() => _runOptions.Dispose();
}
