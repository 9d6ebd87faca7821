using System.Diagnostics;
using Berth.Testing.Insight;

namespace Berth.Core.Tests.Insight;

/// <summary>
/// Thousands of mutated model files (bit flips, overwritten length fields, cuts, inserted and repeated bytes) through every
/// parser: each ends with a result — never an exception, a hang, or a runaway allocation.
/// </summary>
public sealed class FuzzTests : IDisposable
{
    private const int Mutations = 3000;
    private readonly string _folder = TempFolder.Create("berth-fuzz");

    public void Dispose() => TempFolder.Delete(_folder);

    [Fact]
    public async Task MutatedFilesOfEveryFormatNeverCrashHangOrExhaustMemory()
    {
        var seeds = new List<(string Name, byte[] Bytes)>();
        foreach (var relative in new[]
        {
            "torch/state_dict.pt", "torch/legacy.pt", "torch/scripted.pt", "onnx/custom.onnx", "onnx/model.onnx", "sklearn/pipeline.pkl",
            "sklearn/pipeline_p0.pkl", "sklearn/mixed.joblib", "sklearn/forest_compressed.joblib", "numpy/arrays.npz", "numpy/objects.npy",
            "numpy/weights.npy", "evil/memo_stack_global.pkl", "keras/legacy.h5",
        })
        {
            seeds.Add((relative, await File.ReadAllBytesAsync(await ModelCorpus.FileAsync(relative), TestContext.Current.CancellationToken)));
        }

        SpecFiles.Safetensors(Path.Combine(_folder, "m.safetensors"), [new("w", "F32", [8, 8], 4)], new Dictionary<string, string> { ["format"] = "pt" });
        SpecFormatTests.WriteGguf(Path.Combine(_folder, "m.gguf"), vocabulary: 256);
        SpecFiles.Keras(Path.Combine(_folder, "m.keras"), lambda: true);
        foreach (var name in new[] { "m.safetensors", "m.gguf", "m.keras" })
        {
            seeds.Add((name, await File.ReadAllBytesAsync(Path.Combine(_folder, name), TestContext.Current.CancellationToken)));
        }

        seeds.Add(("saved_model.pb", SpecFiles.SavedModelPb()));
        seeds.Add(("MLmodel", "flavors:\n  sklearn: {sklearn_version: 1.2.1}\nsignature:\n  inputs: '[{\"type\": \"double\", \"name\": \"x\"}]'\n"u8.ToArray()));
        seeds.Add(("m.mlem", "model_type:\n  type: sklearn\n  methods:\n    predict: {args: [{name: X, type_: {type: ndarray, shape: [null, 4]}}]}\nrequirements: [{module: numpy}]\n"u8.ToArray()));

        var random = new Random(20261207);
        var slowest = TimeSpan.Zero;
        var slowestName = "";
        var total = Stopwatch.StartNew();
        for (var i = 0; i < Mutations; i++)
        {
            var (name, seed) = seeds[i % seeds.Count];
            var mutated = Mutate(seed, random);
            var watch = Stopwatch.StartNew();
            try
            {
                // A parser that loops forever fails here (TimeoutException) instead of hanging the run.
                await Inspect.BytesAsync(name, mutated).WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
            }
            catch (Exception e)
            {
                var file = Path.Combine(_folder, $"crash-{i}-{Path.GetFileName(name)}");
                await File.WriteAllBytesAsync(file, mutated, TestContext.Current.CancellationToken);
                Assert.Fail($"mutation {i} of {name} threw {e.GetType().Name}: {e.Message} (input kept as {file})\n{e.StackTrace}");
            }

            if (watch.Elapsed > slowest)
            {
                (slowest, slowestName) = (watch.Elapsed, name);
            }
        }

        Assert.True(slowest < TimeSpan.FromSeconds(10), $"the slowest input ({slowestName}) took {slowest}");
        Assert.True(total.Elapsed < TimeSpan.FromMinutes(5), $"{Mutations} inputs took {total.Elapsed}");
    }

    private static byte[] Mutate(byte[] seed, Random random)
    {
        var bytes = (byte[])seed.Clone();
        var rounds = random.Next(1, 4);
        for (var r = 0; r < rounds; r++)
        {
            switch (random.Next(6))
            {
                case 0:
                    for (var k = 0; k < random.Next(1, 16); k++)
                    {
                        bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                    }

                    break;
                case 1:
                {
                    // A length field: four or eight bytes set to an extreme.
                    var at = random.Next(Math.Max(1, Math.Min(bytes.Length - 8, 4096)));
                    var value = random.Next(4) switch { 0 => (byte)0xFF, 1 => (byte)0x7F, 2 => (byte)0x00, _ => (byte)random.Next(256) };
                    for (var k = 0; k < (random.Next(2) == 0 ? 4 : 8) && at + k < bytes.Length; k++)
                    {
                        bytes[at + k] = value;
                    }

                    break;
                }

                case 2:
                    bytes = bytes[..random.Next(bytes.Length)];
                    break;
                case 3:
                {
                    var at = random.Next(bytes.Length);
                    var insert = new byte[random.Next(1, 64)];
                    random.NextBytes(insert);
                    bytes = [.. bytes[..at], .. insert, .. bytes[at..]];
                    break;
                }

                case 4:
                {
                    // Repeat a slice: nested structures and opcode runs.
                    var at = random.Next(bytes.Length);
                    var length = Math.Min(random.Next(1, 256), bytes.Length - at);
                    var slice = bytes.AsSpan(at, length).ToArray();
                    var repeated = Enumerable.Repeat(slice, random.Next(2, 50)).SelectMany(s => s).ToArray();
                    bytes = [.. bytes[..at], .. repeated, .. bytes[at..]];
                    break;
                }

                default:
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                    break;
            }

            if (bytes.Length == 0)
            {
                bytes = [0x80];
            }
        }

        return bytes;
    }
}
