using System.Collections.Concurrent;
using System.Text.Json;
using Berth.Cli.Tests.Support;
using Berth.Testing;
using Microsoft.ML.OnnxRuntime;

namespace Berth.Cli.Tests.Serving;

/// <summary>
/// <c>berth serve-model</c> as a process against the shared registry: the Open Inference Protocol (health, metadata,
/// inference with every datatype) answering the same numbers as ONNX Runtime called here on the same file, the protocol's
/// errors for bad input (and the server healthy after them), versions it cannot serve refused at start, the deployment it
/// records, and <c>--watch</c> following a promotion under constant load without a failed request.
/// </summary>
public sealed class ServeModelTests(ServerFixture fixture)
{
    private static readonly float[] Rows = [1f, 2f, 3f, -0.5f, 0.25f, 4f];

    private ServerProcess Server => fixture.Server;

    [Fact]
    public async Task ALinearModelAnswersTheProtocolWithOnnxRuntimesNumbersAndRecordsItsDeployment()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var folder = await ServingModels.FolderAsync("linear");
        (await user.RunAsync("push", folder, "serving/linear", "--version", "1.0.0")).Succeeded();
        await using var served = await ModelServerProcess.StartAsync(user, "serving/linear:1.0.0",
            "--environment", "serve-test", "--endpoint", "https://linear.acme.io", "--max-batch", "4", "--max-request-bytes", "65536", "--threads", "1");

        // Health and metadata.
        Assert.Equal(200, (await served.GetAsync("/v2/health/live")).Status);
        Assert.Equal(200, (await served.GetAsync("/v2/health/ready")).Status);
        Assert.Equal(200, (await served.GetAsync("/v2/models/linear/ready")).Status);
        Assert.Equal(200, (await served.GetAsync("/v2/models/linear/versions/1/ready")).Status);
        var (status, server) = await served.GetAsync("/v2");
        Assert.Equal(200, status);
        Assert.Equal("berth", server.GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Array, server.GetProperty("extensions").ValueKind);
        foreach (var path in new[] { "/v2/models/linear", "/v2/models/linear/versions/1" })
        {
            var (metadataStatus, metadata) = await served.GetAsync(path);
            Assert.Equal(200, metadataStatus);
            Assert.Equal("linear", metadata.GetProperty("name").GetString());
            Assert.Equal(["1"], metadata.GetProperty("versions").EnumerateArray().Select(v => v.GetString()));
            Assert.Equal("onnxruntime_onnx", metadata.GetProperty("platform").GetString());
            Assert.Equal("""[{"name":"x","datatype":"FP32","shape":[-1,3]}]""", metadata.GetProperty("inputs").GetRawText());
            Assert.Equal("""[{"name":"y","datatype":"FP32","shape":[-1,2]}]""", metadata.GetProperty("outputs").GetRawText());
            Assert.Equal("serving/linear:1", metadata.GetProperty("parameters").GetProperty("registry_reference").GetString());
            Assert.Equal("1.0.0", metadata.GetProperty("parameters").GetProperty("semver").GetString());
        }

        // Inference, flat and nested, with and without the version in the path: ONNX Runtime's numbers exactly.
        var expected = Direct(Path.Combine(folder, "model.onnx"), "x", Rows, [2, 3], "y");
        var (inferStatus, answer) = await served.InferAsync("""{"id":"r1","inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,-0.5,0.25,4]}]}""", model: "linear");
        Assert.Equal(200, inferStatus);
        Assert.Equal("linear", answer.GetProperty("model_name").GetString());
        Assert.Equal("1", answer.GetProperty("model_version").GetString());
        Assert.Equal("r1", answer.GetProperty("id").GetString());
        var y = Assert.Single(answer.GetProperty("outputs").EnumerateArray());
        Assert.Equal("y", y.GetProperty("name").GetString());
        Assert.Equal("FP32", y.GetProperty("datatype").GetString());
        Assert.Equal("[2,2]", y.GetProperty("shape").GetRawText());
        Assert.Equal(expected, Floats(y));
        (inferStatus, answer) = await served.InferAsync(
            """{"parameters":{"trace":true},"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","parameters":{},"data":[[1,2,3],[-0.5,0.25,4]]}],"outputs":[{"name":"y","parameters":{}}]}""",
            "/v2/models/{0}/versions/1/infer", "linear");
        Assert.Equal(200, inferStatus);
        Assert.Equal(expected, Floats(answer.GetProperty("outputs")[0]));
        Assert.False(string.IsNullOrEmpty(answer.GetProperty("id").GetString()));

        // Bad input: the protocol's error, and a code.
        const string X = """{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5,6]}""";
        (string Body, string Path, int Status, string Code, string Message)[] refusals =
        [
            ("""{"inputs":[{"name":"x","shape":[2,4],"datatype":"FP32","data":[1,2,3,4,5,6,7,8]}]}""", "", 400, "invalid_input", "Input 'x' has shape [-1, 3] (-1: any size); the request gives [2, 4]."),
            ("""{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,4,5]}]}""", "", 400, "invalid_input", "Input 'x' has 5 elements; its shape [2, 3] holds 6."),
            ("""{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP64","data":[1,2,3,4,5,6]}]}""", "", 400, "invalid_input", "Input 'x' is FP32; the request gives FP64."),
            ("""{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,"three",4,5,6]}]}""", "", 400, "invalid_input", "Input 'x' is FP32: \"three\" is not a number."),
            ("""{"inputs":[]}""", "", 400, "invalid_input", "Input 'x' (FP32 [-1, 3]) is missing."),
            ("""{"inputs":[{"name":"z","shape":[1],"datatype":"FP32","data":[1]}]}""", "", 400, "invalid_input", "The model has no input 'z'; its inputs: x (FP32 [-1, 3])."),
            ($$"""{"inputs":[{{X}},{{X}}]}""", "", 400, "invalid_input", "Input 'x' is given twice."),
            ("""{"inputs":[{"name":"x","shape":[5,3],"datatype":"FP32","data":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15]}]}""", "", 400, "batch_limit_exceeded", "Input 'x' has a batch of 5; this server takes at most 4 (--max-batch)."),
            ($$"""{"inputs":[{{X}}],"outputs":[{"name":"probabilities"}]}""", "", 400, "unknown_output", "The model has no output 'probabilities'; its outputs: y."),
            ("""{"inputs":[{"name":"x",""", "", 400, "invalid_json", "The request body is not valid JSON"),
            ("[1,2]", "", 400, "invalid_json", "The request body must be a JSON object (an inference request), not an array."),
            ($$"""{"inputs":[{{X}}]}""", "/v2/models/fraud/infer", 404, "model_not_found", "No model 'fraud' is served here; this server serves 'linear'."),
            ($$"""{"inputs":[{{X}}]}""", "/v2/models/linear/versions/2/infer", 404, "version_not_found", "Version '2' of model 'linear' is not served here; this server serves version 1."),
        ];
        foreach (var (body, path, expectedStatus, code, message) in refusals)
        {
            var (refusedStatus, error) = await served.InferAsync(body, path.Length == 0 ? "/v2/models/linear/infer" : path);
            Assert.True(expectedStatus == refusedStatus, $"{body} → {refusedStatus} {error}");
            Assert.StartsWith(message, error.GetProperty("error").GetString(), StringComparison.Ordinal);
            Assert.Equal(code, error.GetProperty("code").GetString());
        }

        Assert.Equal(404, (await served.GetAsync("/v2/models/fraud")).Status);
        Assert.Equal("version_not_found", (await served.GetAsync("/v2/models/linear/versions/7")).Body.GetProperty("code").GetString());

        // A body over --max-request-bytes: 413 before it is read.
        var huge = $$"""{"inputs":[{"name":"x","shape":[1,3],"datatype":"FP32","data":[1,2,3]}],"id":"{{new string('a', 70_000)}}"}""";
        var (hugeStatus, hugeError) = await served.InferAsync(huge, "/v2/models/linear/infer");
        Assert.Equal(413, hugeStatus);
        Assert.Equal("body_too_large", hugeError.GetProperty("code").GetString());

        // Still healthy, still right.
        Assert.Equal(200, (await served.GetAsync("/v2/health/ready")).Status);
        (inferStatus, answer) = await served.InferAsync("""{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,-0.5,0.25,4]}]}""", model: "linear");
        Assert.Equal(200, inferStatus);
        Assert.Equal(expected, Floats(answer.GetProperty("outputs")[0]));

        // Metrics.
        var metrics = await served.Http.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Matches("""berth_serve_requests_total\{endpoint="infer",status="200"\} 3""", metrics);
        Assert.Matches("""berth_serve_requests_total\{endpoint="infer",status="400"\} 11""", metrics);
        Assert.Matches("""berth_serve_errors_total\{code="body_too_large"\} 1""", metrics);
        Assert.Matches("""berth_serve_request_duration_seconds_bucket\{endpoint="infer",le="[^"]+"\}""", metrics);
        Assert.Matches("""berth_serve_model_version\{namespace="serving",model="linear",number="1",digest="sha256:[0-9a-f]{64}"\} 1""", metrics);

        // Recorded live in its environment while it serves; retired when it stops.
        var records = Deployments(await user.RunAsync("deploy", "ls", "serving/linear", "--env", "serve-test", "--json"));
        Assert.Equal(["1 live https://linear.acme.io", "1 deploying https://linear.acme.io"], records);
        var (exitCode, stdout, _) = await served.StopAsync();
        Assert.Equal(0, exitCode);
        Assert.Contains("Stopped.", stdout);
        Assert.Equal("1 retired https://linear.acme.io", Deployments(await user.RunAsync("deploy", "ls", "serving/linear", "--env", "serve-test", "--json"))[0]);
    }

    [Fact]
    public async Task AClassifierAnswersTheOutputsAskedForByName()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var folder = await ServingModels.FolderAsync("classifier");
        (await user.RunAsync("push", folder, "serving/classifier")).Succeeded();
        await using var served = await ModelServerProcess.StartAsync(user, "serving/classifier");

        var (_, metadata) = await served.GetAsync("/v2/models/classifier");
        Assert.Equal("""[{"name":"label","datatype":"INT64","shape":[-1]},{"name":"probabilities","datatype":"FP32","shape":[-1,3]}]""", metadata.GetProperty("outputs").GetRawText());

        float[] features = [0.1f, 2f, -1f, 0.5f, 3f, -0.2f, 0.7f, 1f, -2f, 1f, 0.3f, 0.9f];
        var path = Path.Combine(folder, "model.onnx");
        var probabilities = Direct(path, "features", features, [3, 4], "probabilities");
        var labels = DirectLongs(path, "features", features, [3, 4], "label");
        var input = """{"name":"features","shape":[3,4],"datatype":"FP32","data":[0.1,2,-1,0.5,3,-0.2,0.7,1,-2,1,0.3,0.9]}""";

        var (status, answer) = await served.InferAsync($$"""{"inputs":[{{input}}]}""", model: "classifier");
        Assert.Equal(200, status);
        Assert.Equal(["label", "probabilities"], answer.GetProperty("outputs").EnumerateArray().Select(o => o.GetProperty("name").GetString()));
        Assert.Equal(labels, answer.GetProperty("outputs")[0].GetProperty("data").EnumerateArray().Select(v => v.GetInt64()));
        Assert.Equal("INT64", answer.GetProperty("outputs")[0].GetProperty("datatype").GetString());
        Assert.Equal("[3]", answer.GetProperty("outputs")[0].GetProperty("shape").GetRawText());
        Assert.Equal(probabilities, Floats(answer.GetProperty("outputs")[1]));

        (status, answer) = await served.InferAsync($$"""{"inputs":[{{input}}],"outputs":[{"name":"probabilities"}]}""", model: "classifier");
        Assert.Equal(200, status);
        var only = Assert.Single(answer.GetProperty("outputs").EnumerateArray());
        Assert.Equal("probabilities", only.GetProperty("name").GetString());
        Assert.Equal("[3,3]", only.GetProperty("shape").GetRawText());
        Assert.Equal(probabilities, Floats(only));

        (status, answer) = await served.InferAsync($$"""{"inputs":[{{input}}],"outputs":[{"name":"label"}]}""", model: "classifier");
        Assert.Equal(200, status);
        Assert.Equal("label", Assert.Single(answer.GetProperty("outputs").EnumerateArray()).GetProperty("name").GetString());

        // A shape of 1.6 GB with four numbers in it is refused before anything is allocated for it.
        (status, answer) = await served.InferAsync("""{"inputs":[{"name":"features","shape":[100000000,4],"datatype":"FP32","data":[1,2,3,4]}]}""", model: "classifier");
        Assert.Equal(400, status);
        Assert.Equal("Input 'features' has 4 elements; its shape [100000000, 4] holds 400000000.", answer.GetProperty("error").GetString());
        Assert.Equal(200, (await served.GetAsync("/v2/health/ready")).Status);
    }

    [Fact]
    public async Task StringsAndEveryDatatypeOfTheProtocolRoundTrip()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var text = await ServingModels.FolderAsync("text");
        (await user.RunAsync("push", text, "serving/text")).Succeeded();
        await using (var served = await ModelServerProcess.StartAsync(user, "serving/text"))
        {
            var (_, metadata) = await served.GetAsync("/v2/models/text");
            Assert.Equal("""[{"name":"text","datatype":"BYTES","shape":[-1]}]""", metadata.GetProperty("inputs").GetRawText());
            string[] words = ["spam", "berth", "Ham", "日本"];
            using var session = new InferenceSession(Path.Combine(text, "model.onnx"));
            using var value = OrtValue.CreateTensorWithEmptyStrings(OrtAllocator.DefaultInstance, [words.Length]);
            for (var i = 0; i < words.Length; i++)
            {
                value.StringTensorSetElementAt(words[i].AsSpan(), i);
            }

            using var runOptions = new RunOptions();
            using var results = session.Run(runOptions, ["text"], [value], ["label"]);
            var expected = results.First().GetTensorDataAsSpan<long>().ToArray();
            Assert.Equal([1L, 7L, -1L, -1L], expected);

            var (status, answer) = await served.InferAsync("""{"inputs":[{"name":"text","shape":[4],"datatype":"BYTES","data":["spam","berth","Ham","日本"]}]}""", model: "text");
            Assert.Equal(200, status);
            var label = answer.GetProperty("outputs")[0];
            Assert.Equal("INT64", label.GetProperty("datatype").GetString());
            Assert.Equal(expected, label.GetProperty("data").EnumerateArray().Select(v => v.GetInt64()));
            var echo = answer.GetProperty("outputs")[1];
            Assert.Equal("BYTES", echo.GetProperty("datatype").GetString());
            Assert.Equal(words, echo.GetProperty("data").EnumerateArray().Select(v => v.GetString()));

            (status, answer) = await served.InferAsync("""{"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","data":["spam",7]}]}""", model: "text");
            Assert.Equal(400, status);
            Assert.Equal("Input 'text' is BYTES: 7 is not a string.", answer.GetProperty("error").GetString());
        }

        var types = await ServingModels.FolderAsync("types");
        (await user.RunAsync("push", types, "serving/types")).Succeeded();
        await using (var served = await ModelServerProcess.StartAsync(user, "serving/types"))
        {
            (string Type, string Data)[] tensors =
            [
                ("BOOL", "[true,false,false,true]"),
                ("UINT8", "[0,255,1,2]"),
                ("UINT16", "[0,65535,1,2]"),
                ("UINT32", "[0,4294967295,1,2]"),
                ("UINT64", "[0,18446744073709551615,1,2]"),
                ("INT8", "[-128,127,0,1]"),
                ("INT16", "[-32768,32767,0,1]"),
                ("INT32", "[-2147483648,2147483647,0,1]"),
                ("INT64", "[-9223372036854775808,9223372036854775807,0,1]"),
                ("FP16", "[0.5,-2,1024,65504]"),
                ("FP32", "[1.5,\"NaN\",\"-Infinity\",-0.25]"),
                ("FP64", "[1E+300,-1E-300,0,3.141592653589793]"),
                ("BYTES", "[\"a\",\"\",\"\\u65E5\\u672C\",\"x y\"]"),
            ];
            var (_, metadata) = await served.GetAsync("/v2/models/types");
            Assert.Equal(tensors.Select(t => t.Type), metadata.GetProperty("inputs").EnumerateArray().Select(i => i.GetProperty("datatype").GetString()));
            var inputs = string.Join(',', tensors.Select(t => $$"""{"name":"in_{{t.Type}}","shape":[2,2],"datatype":"{{t.Type}}","data":{{t.Data}}}"""));
            var (status, answer) = await served.InferAsync($$"""{"inputs":[{{inputs}}]}""", model: "types");
            Assert.True(200 == status, answer.ToString());
            var outputs = answer.GetProperty("outputs").EnumerateArray().ToDictionary(o => o.GetProperty("name").GetString()!);
            foreach (var (type, data) in tensors)
            {
                var output = outputs["out_" + type];
                Assert.Equal(type, output.GetProperty("datatype").GetString());
                Assert.Equal("[2,2]", output.GetProperty("shape").GetRawText());
                Assert.Equal(Normalise(data), Normalise(output.GetProperty("data").GetRawText()));
            }

            (status, answer) = await served.InferAsync($$"""{"inputs":[{{inputs.Replace("[0,255,1,2]", "[0,256,1,2]", StringComparison.Ordinal)}}]}""", model: "types");
            Assert.Equal(400, status);
            Assert.Equal("Input 'in_UINT8' is UINT8: 256 is not a whole number that fits UINT8.", answer.GetProperty("error").GetString());
        }
    }

    [Fact]
    public async Task AVersionItCannotServeIsRefusedAtStartWithOneLine()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        using (var plain = new ModelFolder(("weights.bin", 100)))
        {
            (await user.RunAsync("push", plain.Root, "serving/plain")).Succeeded();
        }

        var port = ServerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture);
        var refused = (await user.RunAsync("serve-model", "serving/plain:1", "--port", port)).Failed(1, "error: serving/plain:1 has no ONNX model (.onnx file); serve-model serves ONNX models with ONNX Runtime.");
        Assert.Contains("hint: its files: weights.bin.", refused.Stderr, StringComparison.Ordinal);

        using var two = new ModelFolder();
        var linear = Path.Combine(await ServingModels.FolderAsync("linear"), "model.onnx");
        File.Copy(linear, Path.Combine(two.Root, "a.onnx"));
        File.Copy(linear, Path.Combine(two.Root, "b.onnx"));
        (await user.RunAsync("push", two.Root, "serving/two")).Succeeded();
        (await user.RunAsync("serve-model", "serving/two:1", "--port", port)).Failed(1, "error: serving/two:1 has 2 ONNX files: a.onnx, b.onnx.\nhint: choose one with --file <path>.");
        (await user.RunAsync("serve-model", "serving/two:1", "--port", port, "--file", "c.onnx")).Failed(1, "error: serving/two:1 has no file 'c.onnx' (--file).");
        (await user.RunAsync("serve-model", "serving/two:1", "--watch")).Failed(2, "--watch follows an alias, a stage or the latest version; 'serving/two:1' names one fixed version.");

        // A file named .onnx that ONNX Runtime cannot load: refused after listening, recorded as failed.
        using var broken = new ModelFolder(("model.onnx", 300));
        (await user.RunAsync("push", broken.Root, "serving/broken")).Succeeded();
        var failed = await user.RunAsync("serve-model", "serving/broken:latest", "--port", port, "--environment", "serve-test");
        Assert.Equal(1, failed.ExitCode);
        Assert.StartsWith($"Listening on http://127.0.0.1:{port}: model 'broken'", failed.Stdout, StringComparison.Ordinal);
        var error = Assert.Single(failed.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: ONNX Runtime cannot load 'model.onnx' of serving/broken:1: ", error, StringComparison.Ordinal);
        Assert.Equal(["1 failed ", "1 deploying "], Deployments(await user.RunAsync("deploy", "ls", "serving/broken", "--json")));
    }

    [Fact]
    public async Task WatchFollowsAPromotionUnderLoadWithoutAFailedRequest()
    {
        using var user = new CliUser();
        await user.LoginAsync(Server);
        var first = await ServingModels.FolderAsync("linear");
        var second = await ServingModels.FolderAsync("linear2");
        (await user.RunAsync("push", first, "serving/watch")).Succeeded();
        (await user.RunAsync("push", second, "serving/watch")).Succeeded();
        (await user.RunAsync("stage", "serving/watch:1", "production")).Succeeded();
        var expected = new Dictionary<string, float[]>
        {
            ["1"] = Direct(Path.Combine(first, "model.onnx"), "x", Rows, [2, 3], "y"),
            ["2"] = Direct(Path.Combine(second, "model.onnx"), "x", Rows, [2, 3], "y"),
        };
        Assert.NotEqual(expected["1"], expected["2"]);

        await using var served = await ModelServerProcess.StartAsync(user, "serving/watch:production", "--watch", "--environment", "watch-test");
        Assert.Equal(["1 live ", "1 deploying "], Deployments(await user.RunAsync("deploy", "ls", "serving/watch", "--json")));

        // Four clients send requests back to back while version 2 is promoted.
        const string Body = """{"inputs":[{"name":"x","shape":[2,3],"datatype":"FP32","data":[1,2,3,-0.5,0.25,4]}]}""";
        using var stop = new CancellationTokenSource();
        var failures = new ConcurrentQueue<string>();
        var counts = new ConcurrentDictionary<string, int>();
        var clients = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            var seen = new List<string>();
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    var (status, answer) = await served.InferAsync(Body, model: "watch");
                    if (status != 200)
                    {
                        failures.Enqueue($"{status} {answer}");
                        continue;
                    }

                    var version = answer.GetProperty("model_version").GetString()!;
                    if (!expected.TryGetValue(version, out var numbers) || !numbers.SequenceEqual(Floats(answer.GetProperty("outputs")[0])))
                    {
                        failures.Enqueue($"version {version} answered {answer}");
                    }

                    seen.Add(version);
                    counts.AddOrUpdate(version, 1, (_, n) => n + 1);
                }
                catch (HttpRequestException e)
                {
                    failures.Enqueue(e.Message);
                }
            }

            return seen;
        })).ToList();

        await WaitUntilAsync(() => counts.GetValueOrDefault("1") >= 50, "50 answers of version 1");
        (await user.RunAsync("stage", "serving/watch:2", "production")).Succeeded();
        Assert.Equal("serving/watch:production moved to serving/watch:2: loading it (still serving version 1).", await served.Process.ReadLineAsync());
        Assert.StartsWith("Serving serving/watch:2 as model 'watch' version 2 (model.onnx, sha256:", await served.Process.ReadLineAsync(), StringComparison.Ordinal);
        var before = counts.GetValueOrDefault("2");
        await WaitUntilAsync(() => counts.GetValueOrDefault("2") >= before + 50, "50 answers of version 2 after the swap");
        await stop.CancelAsync();
        var sequences = await Task.WhenAll(clients);

        Assert.Empty(failures);
        foreach (var sequence in sequences)
        {
            // Each client's requests follow one another: once one was answered by version 2, none is by version 1.
            var firstNew = sequence.IndexOf("2");
            Assert.True(firstNew >= 0, "a client never saw version 2");
            Assert.DoesNotContain("1", sequence.Skip(firstNew));
        }

        var metrics = await served.Http.GetStringAsync("/metrics", TestContext.Current.CancellationToken);
        Assert.Matches("""berth_serve_swaps_total 1""", metrics);
        Assert.Matches("""berth_serve_model_version\{namespace="serving",model="watch",number="2",""", metrics);
        Assert.DoesNotMatch("""berth_serve_model_version\{namespace="serving",model="watch",number="1",""", metrics);
        Assert.Equal(["2 live ", "1 retired ", "1 live ", "1 deploying "], Deployments(await user.RunAsync("deploy", "ls", "serving/watch", "--env", "watch-test", "--json")));
        Assert.Equal(0, (await served.StopAsync()).ExitCode);
        Assert.Equal("2 retired ", Deployments(await user.RunAsync("deploy", "ls", "serving/watch", "--json"))[0]);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(90));
        while (!condition())
        {
            try
            {
                await Task.Delay(20, deadline.Token);
            }
            catch (OperationCanceledException) when (!TestContext.Current.CancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"Waited 90 s for {what}.");
            }
        }
    }

    /// <summary>The output ONNX Runtime computes here, from the same file, for one FP32 input.</summary>
    private static float[] Direct(string model, string input, float[] data, long[] shape, string output)
    {
        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [input], [value], [output]);
        return results.First().GetTensorDataAsSpan<float>().ToArray();
    }

    private static long[] DirectLongs(string model, string input, float[] data, long[] shape, string output)
    {
        using var session = new InferenceSession(model);
        using var value = OrtValue.CreateTensorValueFromMemory(data, shape);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, [input], [value], [output]);
        return results.First().GetTensorDataAsSpan<long>().ToArray();
    }

    private static float[] Floats(JsonElement output) => [.. output.GetProperty("data").EnumerateArray().Select(v => v.GetSingle())];

    /// <summary>A JSON array's text in one form (the writer's escapes and number forms aside).</summary>
    private static string Normalise(string json) => JsonSerializer.Serialize(JsonDocument.Parse(json).RootElement.EnumerateArray().Select(e => e.ValueKind switch
    {
        JsonValueKind.Number => e.TryGetDecimal(out var exact) ? (object)exact : e.GetDouble(),
        JsonValueKind.String => e.GetString()!,
        _ => e.GetBoolean(),
    }));

    private static List<string> Deployments(CliResult result) =>
        [.. result.Succeeded().Json.EnumerateArray().Select(d => $"{d.GetProperty("version").GetInt32()} {d.GetProperty("status").GetString()} {(d.TryGetProperty("endpoint", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : "")}")];
}
