using System.Reflection;
using System.Runtime.Loader;
using System.Text.RegularExpressions;
using Berth.Cli.Tests.Support;
using Npgsql;
using YamlDotNet.RepresentationModel;

namespace Berth.Cli.Tests;

/// <summary>
/// The example deployment files in <c>deploy/</c> (docs/deploy.md) cannot rot silently: no Docker or Kubernetes runs
/// here, so this reads them and checks what they tell the server against the server itself. Every <c>berth serve</c>
/// option they pass is one <c>berth serve --help</c> lists; every <c>BERTH_…</c> variable they set is a setting the
/// server reads (a switch's key, or a property of an options class bound from that section); other variables are
/// ones the server or its image is known to use; probes ask paths that answer on a running server, on the port the
/// server listens on; and the Dockerfile restores every project of the binary.
/// </summary>
public sealed partial class DeploymentExamplesTests(ServerFixture fixture)
{
    /// <summary>Variables the examples may set that are not Berth's own settings: the AWS SDK's credentials, the image's.</summary>
    private static readonly HashSet<string> ForeignVariables = new(StringComparer.Ordinal)
    {
        "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_PROFILE",
        "ASPNETCORE_HTTP_PORTS", "DOTNET_CLI_TELEMETRY_OPTOUT",
    };

    private static readonly string Deploy = Path.Combine(RepositoryRoot(), "deploy");

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void TheExamplesAreThereAndEveryYamlFileParses()
    {
        string[] expected =
        [
            "Dockerfile", "compose.yaml", "kubernetes/kustomization.yaml", "kubernetes/deployment.yaml", "kubernetes/service.yaml",
            "kubernetes/configmap.yaml", "kubernetes/secret.example.yaml", "kubernetes/ingress.yaml", "kubernetes/poddisruptionbudget.yaml",
        ];
        Assert.All(expected, file => Assert.True(File.Exists(Path.Combine(Deploy, file)), $"deploy/{file} is missing"));

        var documents = YamlFiles().SelectMany(file => Documents(file).Select(d => (file, d))).ToList();
        Assert.All(documents, d => Assert.IsType<YamlMappingNode>(d.d.RootNode));
        // Every Kubernetes document says what it is; kustomization.yaml lists every manifest but the example Secret.
        var kubernetes = documents.Where(d => d.file.Contains("kubernetes", StringComparison.Ordinal)).ToList();
        Assert.All(kubernetes, d => Assert.NotNull(Scalar((YamlMappingNode)d.d.RootNode, "kind")));
        var listed = Sequence((YamlMappingNode)Documents(Path.Combine(Deploy, "kubernetes", "kustomization.yaml")).Single().RootNode, "resources").Select(n => ((YamlScalarNode)n).Value!).ToHashSet();
        var files = Directory.GetFiles(Path.Combine(Deploy, "kubernetes"), "*.yaml").Select(Path.GetFileName).Where(f => f is not "kustomization.yaml" and not "secret.example.yaml");
        Assert.Equal(files.Order(StringComparer.Ordinal), listed.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task EveryBerthServeOptionTheExamplesPassExists()
    {
        var help = await BerthAsync("serve", "--help");
        var options = OptionPattern().Matches(help).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);
        Assert.Contains("--db", options);

        var invocations = Invocations().ToList();
        Assert.Equal(["Dockerfile", "compose.yaml", "kubernetes/deployment.yaml"], invocations.Select(i => i.Source).Distinct().Order(StringComparer.Ordinal));
        Assert.All(invocations, invocation =>
        {
            Assert.True(invocation.Args.FirstOrDefault() == "serve", $"{invocation.Source}: the container must run 'berth serve', not '{string.Join(' ', invocation.Args)}'");
            foreach (var option in invocation.Args.Where(a => a.StartsWith("--", StringComparison.Ordinal)))
            {
                Assert.True(options.Contains(option.Split('=')[0]), $"{invocation.Source} passes {option}, which 'berth serve --help' does not list");
            }
        });
    }

    [Fact]
    public void EverySettingTheExamplesSetIsOneTheServerReads()
    {
        using var catalog = SettingsCatalog.Load();
        var variables = Variables().ToList();
        Assert.Contains(variables, v => v.Name == "BERTH_DB");
        Assert.Contains(variables, v => v.Name == "BERTH_BLOBS");
        Assert.All(variables, variable =>
        {
            if (variable.Name.StartsWith("BERTH_", StringComparison.Ordinal))
            {
                var problem = catalog.Problem(variable.Name);
                Assert.True(problem is null, $"{variable.Source} sets {variable.Name}: {problem}");
            }
            else
            {
                Assert.True(ForeignVariables.Contains(variable.Name), $"{variable.Source} sets {variable.Name}, which neither Berth nor its image reads");
            }
        });

        // The connection strings are ones Berth accepts (its own check at start-up is the same builder's).
        Assert.All(variables.Where(v => v.Name == "BERTH_DB"), v =>
            Assert.False(string.IsNullOrEmpty(new NpgsqlConnectionStringBuilder(v.Value).Host), $"{v.Source}: BERTH_DB names no host"));
        Assert.All(variables.Where(v => v.Name == "BERTH_BLOBS"), v => Assert.StartsWith("s3://", v.Value, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ProbesAskPathsThatAnswerOnThePortTheServerListensOn()
    {
        var deployment = KubernetesDocuments().Single(d => Scalar(d, "kind") == "Deployment");
        var container = Containers(deployment).Single();
        var args = Sequence(container, "args").Select(n => ((YamlScalarNode)n).Value!).ToList();
        var port = ListenPort(args[args.IndexOf("--urls") + 1]);
        var ports = Sequence(container, "ports").Cast<YamlMappingNode>().ToDictionary(p => Scalar(p, "name")!, p => int.Parse(Scalar(p, "containerPort")!, System.Globalization.CultureInfo.InvariantCulture));

        var probes = new[] { "startupProbe", "livenessProbe", "readinessProbe" }.Select(name => (name, probe: (YamlMappingNode)container.Children[name])).ToList();
        using var http = new HttpClient { BaseAddress = new Uri(fixture.Server.Url) };
        foreach (var (name, probe) in probes)
        {
            var get = (YamlMappingNode)probe.Children["httpGet"];
            var probePort = Scalar(get, "port")!;
            Assert.Equal(port, int.TryParse(probePort, out var number) ? number : ports[probePort]);
            using var response = await http.GetAsync(Scalar(get, "path"), Ct);
            Assert.True(response.IsSuccessStatusCode, $"{name} asks {Scalar(get, "path")}, which answers {(int)response.StatusCode}");
        }

        // Readiness follows the database and the bucket; liveness must not (docs/deploy.md).
        Assert.Equal("/readyz", Scalar((YamlMappingNode)probes.Single(p => p.name == "readinessProbe").probe.Children["httpGet"], "path"));
        Assert.Equal("/healthz", Scalar((YamlMappingNode)probes.Single(p => p.name == "livenessProbe").probe.Children["httpGet"], "path"));

        var compose = ComposeBerth();
        var composeArgs = Sequence(compose, "command").Select(n => ((YamlScalarNode)n).Value!).ToList();
        var published = Sequence(compose, "ports").Select(n => ((YamlScalarNode)n).Value!).Single();
        Assert.Equal(ListenPort(composeArgs[composeArgs.IndexOf("--urls") + 1]), int.Parse(published.Split(':')[^1], System.Globalization.CultureInfo.InvariantCulture));

        var dockerfile = File.ReadAllText(Path.Combine(Deploy, "Dockerfile"));
        var urls = DockerfileVariables(dockerfile).Single(v => v.Name == "BERTH_URLS").Value;
        Assert.Contains($"EXPOSE {ListenPort(urls)}", dockerfile, StringComparison.Ordinal);
    }

    [Fact]
    public void TheDockerfileRestoresEveryProjectOfTheBinary()
    {
        var dockerfile = File.ReadAllText(Path.Combine(Deploy, "Dockerfile"));
        var projects = Directory.GetFiles(Path.Combine(RepositoryRoot(), "src"), "*.csproj", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(RepositoryRoot(), p).Replace('\\', '/')).ToList();
        Assert.NotEmpty(projects);
        Assert.All(projects, project => Assert.Contains($"COPY {project} ", dockerfile, StringComparison.Ordinal));
        Assert.Contains("dotnet publish src/Berth.Cli/Berth.Cli.csproj", dockerfile, StringComparison.Ordinal);
    }

    // ---- reading the examples ------------------------------------------------------------------------------

    private sealed record Invocation(string Source, IReadOnlyList<string> Args);

    private sealed record Variable(string Source, string Name, string Value);

    /// <summary>How each example starts the binary: the Compose service's command, the Deployment's args, the Dockerfile's CMD.</summary>
    private static IEnumerable<Invocation> Invocations()
    {
        yield return new Invocation("compose.yaml", Sequence(ComposeBerth(), "command").Select(n => ((YamlScalarNode)n).Value!).ToList());
        foreach (var container in KubernetesDocuments().Where(d => Scalar(d, "kind") == "Deployment").SelectMany(Containers))
        {
            Assert.False(container.Children.ContainsKey("command"), "the image's entry point is berth; the Deployment passes args only");
            yield return new Invocation("kubernetes/deployment.yaml", Sequence(container, "args").Select(n => ((YamlScalarNode)n).Value!).ToList());
        }

        var cmd = CmdPattern().Match(File.ReadAllText(Path.Combine(Deploy, "Dockerfile")));
        Assert.True(cmd.Success, "the Dockerfile has no CMD [...]");
        yield return new Invocation("Dockerfile", [.. cmd.Groups[1].Value.Split(',').Select(a => a.Trim().Trim('"'))]);
    }

    /// <summary>Every environment variable the examples give the server.</summary>
    private static IEnumerable<Variable> Variables()
    {
        var compose = ComposeBerth();
        foreach (var (key, value) in (YamlMappingNode)compose.Children["environment"])
        {
            yield return new Variable("compose.yaml", ((YamlScalarNode)key).Value!, ((YamlScalarNode)value).Value ?? "");
        }

        var documents = KubernetesDocuments().ToList();
        var sources = new Dictionary<string, YamlMappingNode>(StringComparer.Ordinal);
        foreach (var document in documents.Where(d => Scalar(d, "kind") is "ConfigMap" or "Secret"))
        {
            var name = Scalar((YamlMappingNode)document.Children["metadata"], "name")!;
            var data = (YamlMappingNode)(document.Children.TryGetValue("data", out var d) ? d : document.Children["stringData"]);
            sources[name] = data;
            foreach (var (key, value) in data)
            {
                yield return new Variable($"kubernetes {Scalar(document, "kind")} {name}", ((YamlScalarNode)key).Value!, ((YamlScalarNode)value).Value ?? "");
            }
        }

        foreach (var container in documents.Where(d => Scalar(d, "kind") == "Deployment").SelectMany(Containers))
        {
            // Every ConfigMap or Secret the container reads exists among the examples.
            foreach (var reference in Sequence(container, "envFrom").Cast<YamlMappingNode>())
            {
                var target = (YamlMappingNode)(reference.Children.TryGetValue("configMapRef", out var c) ? c : reference.Children["secretRef"]);
                Assert.True(sources.ContainsKey(Scalar(target, "name")!), $"the Deployment reads {Scalar(target, "name")}, which no example defines");
            }

            foreach (var variable in Sequence(container, "env").Cast<YamlMappingNode>())
            {
                yield return new Variable("kubernetes Deployment", Scalar(variable, "name")!, Scalar(variable, "value") ?? "");
            }
        }

        foreach (var variable in DockerfileVariables(File.ReadAllText(Path.Combine(Deploy, "Dockerfile"))))
        {
            yield return variable;
        }
    }

    /// <summary>The <c>ENV</c> instructions of a Dockerfile (<c>NAME=value</c> pairs, continued over lines).</summary>
    private static IEnumerable<Variable> DockerfileVariables(string dockerfile)
    {
        var joined = dockerfile.Replace("\\\n", " ", StringComparison.Ordinal);
        foreach (var line in joined.Split('\n').Where(l => l.StartsWith("ENV ", StringComparison.Ordinal)))
        {
            foreach (Match pair in EnvPairPattern().Matches(line[4..]))
            {
                yield return new Variable("Dockerfile", pair.Groups[1].Value, pair.Groups[2].Value);
            }
        }
    }

    private static YamlMappingNode ComposeBerth()
    {
        var compose = (YamlMappingNode)Documents(Path.Combine(Deploy, "compose.yaml")).Single().RootNode;
        return (YamlMappingNode)((YamlMappingNode)compose.Children["services"]).Children["berth"];
    }

    private static IEnumerable<YamlMappingNode> KubernetesDocuments() =>
        Directory.GetFiles(Path.Combine(Deploy, "kubernetes"), "*.yaml").Order(StringComparer.Ordinal)
            .SelectMany(Documents).Select(d => (YamlMappingNode)d.RootNode);

    private static IEnumerable<YamlMappingNode> Containers(YamlMappingNode deployment)
    {
        var pod = (YamlMappingNode)((YamlMappingNode)((YamlMappingNode)deployment.Children["spec"]).Children["template"]).Children["spec"];
        return Sequence(pod, "containers").Cast<YamlMappingNode>();
    }

    private static IEnumerable<string> YamlFiles() => Directory.GetFiles(Deploy, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal);

    private static IReadOnlyList<YamlDocument> Documents(string file)
    {
        var stream = new YamlStream();
        using var reader = new StreamReader(file);
        stream.Load(reader);
        return [.. stream.Documents];
    }

    private static string? Scalar(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) && value is YamlScalarNode scalar ? scalar.Value : null;

    private static IEnumerable<YamlNode> Sequence(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(key, out var value) && value is YamlSequenceNode sequence ? sequence.Children : [];

    private static int ListenPort(string urls) => new Uri(urls.Split(';')[0].Replace("://+", "://0.0.0.0", StringComparison.Ordinal)).Port;

    private static async Task<string> BerthAsync(params string[] args)
    {
        var (exitCode, stdout, stderr) = await ProcessRunner.RunAsync(BerthExecutable.StartInfo(args), null, Ct);
        Assert.True(exitCode == 0, $"berth {string.Join(' ', args)} exited with {exitCode}: {stderr}");
        return stdout;
    }

    private static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Berth.slnx")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException("Berth.slnx not found above the test assembly.");
    }

    [GeneratedRegex(@"^\s+(--[a-z][a-z0-9-]*)", RegexOptions.Multiline)]
    private static partial Regex OptionPattern();

    [GeneratedRegex(@"^CMD\s+\[(.*)\]\s*$", RegexOptions.Multiline)]
    private static partial Regex CmdPattern();

    [GeneratedRegex(@"([A-Za-z_][A-Za-z0-9_]*)=(\S*)")]
    private static partial Regex EnvPairPattern();

    /// <summary>
    /// The settings the built server reads, from its own assemblies (loaded beside berth.dll, for reflection only):
    /// the keys of <c>berth serve</c>'s switches (<c>ServerSettings.SwitchMappings</c>), the properties of every
    /// options class bound from a section (a <c>SectionName</c> constant), and ASP.NET Core's logging section.
    /// </summary>
    private sealed class SettingsCatalog : IDisposable
    {
        private readonly AssemblyLoadContext _context;
        private readonly HashSet<string> _switchKeys;
        private readonly Dictionary<string, Type> _sections;

        private SettingsCatalog(AssemblyLoadContext context, HashSet<string> switchKeys, Dictionary<string, Type> sections)
        {
            _context = context;
            _switchKeys = switchKeys;
            _sections = sections;
        }

        public static SettingsCatalog Load()
        {
            var folder = Path.GetDirectoryName(BerthExecutable.DllPath)!;
            var resolver = new AssemblyDependencyResolver(BerthExecutable.DllPath);
            var context = new AssemblyLoadContext("berth-settings", isCollectible: true);
            context.Resolving += (ctx, name) => resolver.ResolveAssemblyToPath(name) is { } path ? ctx.LoadFromAssemblyPath(path) : null;
            var assemblies = Directory.GetFiles(folder, "Berth.*.dll").Select(context.LoadFromAssemblyPath).ToList();

            var settings = assemblies.Select(a => a.GetType("Berth.Server.Hosting.ServerSettings")).Single(t => t is not null)!;
            var mappings = (IEnumerable<KeyValuePair<string, string>>)settings.GetProperty("SwitchMappings", BindingFlags.Public | BindingFlags.Static)!.GetValue(null)!;
            var switchKeys = mappings.Select(m => m.Value).ToHashSet(StringComparer.OrdinalIgnoreCase);

            var sections = new Dictionary<string, Type>(StringComparer.OrdinalIgnoreCase);
            foreach (var type in assemblies.SelectMany(Types))
            {
                if (type.GetField("SectionName", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field && field.GetRawConstantValue() is string section)
                {
                    sections.Add(section, type);
                }
            }

            Assert.Contains("Registry", sections.Keys);
            Assert.Contains("Webhooks", sections.Keys);
            return new SettingsCatalog(context, switchKeys, sections);
        }

        /// <summary>Why the server would ignore <paramref name="variable"/> (<c>BERTH_Section__Key…</c>), or null when it reads it.</summary>
        public string? Problem(string variable)
        {
            var key = variable["BERTH_".Length..].Split("__");
            if (_switchKeys.Contains(string.Join(':', key)))
            {
                return null;
            }

            if (key.Length == 1)
            {
                return $"no setting '{key[0]}' (top-level settings: {string.Join(", ", _switchKeys.Where(k => !k.Contains(':', StringComparison.Ordinal)))})";
            }

            if (string.Equals(key[0], "Logging", StringComparison.OrdinalIgnoreCase))
            {
                var known = (key.Length == 2 && string.Equals(key[1], "Format", StringComparison.OrdinalIgnoreCase)) ||
                            (key.Length == 3 && string.Equals(key[1], "LogLevel", StringComparison.OrdinalIgnoreCase));
                return known ? null : "the Logging section takes Format and LogLevel__<category>";
            }

            if (!_sections.TryGetValue(key[0], out var type))
            {
                return $"no settings section '{key[0]}' (sections: {string.Join(", ", _sections.Keys.Order(StringComparer.Ordinal))})";
            }

            var property = type.GetProperty(key[1], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
            if (property is null || property.SetMethod is not { IsPublic: true })
            {
                return $"{type.Name} has no setting '{key[1]}'";
            }

            var list = property.PropertyType.IsGenericType && property.PropertyType.GetGenericTypeDefinition() == typeof(List<>);
            return (list, key.Length) switch
            {
                (false, 2) => null,
                (true, 3) when int.TryParse(key[2], out _) => null,
                (true, _) => $"{type.Name}.{property.Name} is a list: set its items as {key[0]}__{key[1]}__0, __1 …",
                _ => $"{type.Name}.{property.Name} has no part '{string.Join("__", key[2..])}'",
            };
        }

        public void Dispose() => _context.Unload();

        private static IEnumerable<Type> Types(Assembly assembly)
        {
            try
            {
                return assembly.GetTypes();
            }
            catch (ReflectionTypeLoadException e)
            {
                return e.Types.OfType<Type>();
            }
        }
    }
}
