using System.Text;
using Microsoft.Extensions.Configuration.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using Berth.Contracts.Json;
using Berth.Core.Audit;
using Berth.Core.Events;
using Berth.Core.Webhooks;
using Berth.Core.Auth;
using Berth.Core.Blobs;
using Berth.Core.Common;
using Berth.Core.Configuration;
using Berth.Core.Data;
using Berth.Core.Diagnostics;
using Berth.Core.Governance;
using Berth.Core.Idempotency;
using Berth.Core.Gc;
using Berth.Core.Insight.Service;
using Berth.Core.Maintenance;
using Berth.Core.Registry;
using Berth.Core.Runs;
using Berth.Core.Scrub;
using Berth.Core.Uploads;
using Berth.Server.Api;
using Berth.Server.Api.Auth;
using Berth.Server.Api.Problems;
using Berth.Server.Api.OpenApi;
using Berth.Server.Api.RateLimiting;
using Berth.Server.Hosting.Secrets;
using Berth.Web.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Berth.Server.Hosting;

/// <summary>
/// Builds and runs the Berth server: the composition root. <c>berth serve</c> and the tests both
/// start the server through here, so what is tested is what runs.
/// </summary>
public static partial class BerthServer
{
    /// <summary>Request bodies of JSON endpoints are limited to this; uploads stream without a limit.</summary>
    public const long MaxJsonBodySize = 32L * 1024 * 1024;

    /// <summary>
    /// The ASP.NET Core builder of every HTTP server berth runs (<c>serve</c>, <c>serve-model</c>), without the host's
    /// configuration defaults for the working directory. Those read appsettings.json from it and watched it for changes:
    /// another program's settings were taken up, and the watch put an inotify watch on every folder below (6,201 for a
    /// server started in a checkout; all of /tmp for one started there), each woken by every file written under it.
    /// Berth's settings come from its variables, its switches and &lt;data&gt;/berth.json.
    /// </summary>
    public static WebApplicationBuilder CreateHostBuilder()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        foreach (var source in builder.Configuration.Sources.OfType<JsonConfigurationSource>().ToList())
        {
            builder.Configuration.Sources.Remove(source);
        }

        return builder;
    }

    /// <param name="args">Command-line style settings (see <see cref="ServerSettings"/>).</param>
    /// <param name="configure">Extra configuration sources, applied last.</param>
    /// <param name="services">Service overrides (tests replace the clock here).</param>
    /// <exception cref="StartupException">A setting is malformed; the message names it.</exception>
    public static WebApplication Build(string[] args, Action<IConfigurationBuilder>? configure = null, Action<IServiceCollection>? services = null)
    {
        var builder = CreateHostBuilder();
        builder.Configuration.AddEnvironmentVariables(ServerSettings.EnvironmentPrefix);
        builder.Configuration.AddCommandLine(args, ServerSettings.SwitchMappings.ToDictionary());
        configure?.Invoke(builder.Configuration);

        var dataDirectory = Path.GetFullPath(builder.Configuration[ServerSettings.DataKey] is { Length: > 0 } d ? d : ServerSettings.DefaultData);
        builder.Configuration.AddJsonFile(Path.Combine(dataDirectory, "berth.json"), optional: true, reloadOnChange: false);
        builder.Configuration.AddEnvironmentVariables(ServerSettings.EnvironmentPrefix);
        builder.Configuration.AddCommandLine(args, ServerSettings.SwitchMappings.ToDictionary());
        configure?.Invoke(builder.Configuration);

        // A taken port stops start-up here, before the data folder (or an administrator) is created.
        var urls = ListenAddresses.Check(builder.Configuration[ServerSettings.UrlsKey] is { Length: > 0 } u ? u : ServerSettings.DefaultUrls);
        PrivateFiles.CreateDirectory(dataDirectory);
        builder.WebHost.UseUrls([.. urls]);
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = MaxJsonBodySize;
            kestrel.Limits.MaxRequestBufferSize = 4 * 1024 * 1024;
        });
        // Console logs, readable by default; Logging:Format=json (BERTH_Logging__Format=json) writes one
        // JSON object per line, with the message template's values as properties, for log shippers.
        builder.Logging.ClearProviders();
        if (string.Equals(builder.Configuration["Logging:Format"], "json", StringComparison.OrdinalIgnoreCase))
        {
            builder.Logging.AddJsonConsole(o =>
            {
                o.UseUtcTimestamp = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ";
            });
        }
        else
        {
            builder.Logging.AddSimpleConsole(o => o.SingleLine = false);
        }
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);

        // Failed statements surface as exceptions that Berth handles (a lost race on a unique index is
        // a 409 or a retry); EF's own error lines for them would only be noise.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Update", LogLevel.None);
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Command", LogLevel.None);
        // The same for connection failures: an outage is logged once per request as "unavailable", and at
        // start-up the error names the --db setting.
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore.Database.Connection", LogLevel.None);

        // The lines above are defaults: a level the operator sets for the same category (Logging:LogLevel:<category>)
        // wins, because of two rules for one category the one added last applies.
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));

        AddServices(builder.Services, builder.Configuration, dataDirectory);
        services?.Invoke(builder.Services);
        var app = builder.Build();
        app.UseBerth();
        return app;
    }

    /// <summary>Migrates the database, bootstraps the administrator, then starts listening.</summary>
    /// <exception cref="StartupException">A setting is wrong (the message names it), e.g. the database cannot be reached.</exception>
    public static async Task StartAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        ValidateSettings(app.Services);
        var firstStart = await app.Services.GetRequiredService<StartupTasks>().StartAsync(cancellationToken);
        try
        {
            await app.StartAsync(cancellationToken);
        }
        catch (IOException e) when (e.InnerException is AddressInUseException || e.Message.StartsWith("Failed to bind", StringComparison.Ordinal))
        {
            // Taken since it was checked at build time.
            throw new StartupException($"{ListenAddresses.Setting}: {e.Message.TrimEnd('.')}; stop the other server or choose another address.", e);
        }

        if (firstStart is not null)
        {
            // To the console, never through the logger; and the paths only: a secret is never printed or logged.
            var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
            var url = ListenAddresses.LoginUrl(addresses);
            var message = new StringBuilder().AppendLine().Append("Berth is set up.");
            if (firstStart.TokenFile is { } tokenFile)
            {
                message.AppendLine($"""
                     The administrator's API token is in {tokenFile} (readable only by you).
                    Log in with:

                        berth login {url} --token "$(cat {ShellQuote(tokenFile)})"

                    """);
            }
            else
            {
                message.AppendLine();
            }

            message.AppendLine($"""
                Web UI: open {url}/ and sign in as 'admin' with the one-time password in {firstStart.PasswordFile}
                (readable only by you); you choose your own password at the first sign-in.
                """);
            Console.Out.WriteLine(message.ToString());
        }

        // Start-up (building the EF model, migrating, compiling the first queries) allocates tens of MB that are
        // garbage once it is done. One aggressive collection hands that memory back to the OS instead of leaving
        // it committed under the first requests: the idle and peak resident size drop by about as much.
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
    }

    /// <summary>Runs the server until it is stopped (Ctrl+C or SIGTERM).</summary>
    public static async Task RunAsync(WebApplication app, CancellationToken cancellationToken = default)
    {
        await StartAsync(app, cancellationToken);
        await app.WaitForShutdownAsync(cancellationToken);
    }

    /// <summary>
    /// Checks every validated settings section before anything is migrated or created (the host would check them only
    /// once it starts, and stop with a stack trace): a wrong value stops start-up with one line naming the section.
    /// </summary>
    private static void ValidateSettings(IServiceProvider services)
    {
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
        }
        catch (InvalidOperationException e) when (UnconvertibleSetting().Match(e.Message) is { Success: true } m)
        {
            // "Failed to convert configuration value 'soon' at 'Runs:WatchInterval' to type 'System.TimeSpan'."
            var (value, key, type) = (m.Groups[1].Value, m.Groups[2].Value, m.Groups[3].Value);
            var expected = type == "System.TimeSpan" ? "a duration, hh:mm:ss or d.hh:mm:ss" : "a " + type.Replace("System.", "", StringComparison.Ordinal);
            throw new StartupException($"invalid setting {key} ({ServerSettings.EnvironmentPrefix}{key.Replace(":", "__", StringComparison.Ordinal)}): '{value}' is not {expected}.", e);
        }
        catch (Exception e) when (e is OptionsValidationException or AggregateException)
        {
            var failures = (e is AggregateException all ? all.InnerExceptions : [e]).OfType<OptionsValidationException>().ToList();
            if (failures.Count == 0)
            {
                throw;
            }

            throw new StartupException(string.Join("; ", failures.Select(f =>
            {
                var section = f.OptionsType.GetField("SectionName")?.GetValue(null) as string ?? f.OptionsType.Name;
                return $"invalid setting in '{section}' (BERTH_{section}__…, --{section}:…): {string.Join(" ", f.Failures)}";
            })), e);
        }
    }

    [GeneratedRegex("^Failed to convert configuration value '(.*)' at '([^']+)' to type '([^']+)'", RegexOptions.Singleline)]
    private static partial Regex UnconvertibleSetting();

    /// <summary>A path as one POSIX shell word.</summary>
    private static string ShellQuote(string path) =>
        path.All(c => char.IsAsciiLetterOrDigit(c) || c is '/' or '.' or '-' or '_' or '+' or ':' or '@' or '%')
            ? path
            : "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static void AddServices(IServiceCollection services, IConfiguration configuration, string dataDirectory)
    {
        services.AddSingleton(new DataDirectory(dataDirectory));
        services.AddSingleton(TimeProvider.System);
        services.AddOptions<RegistryOptions>().BindConfiguration(RegistryOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        var blobs = BlobStorage.FromConfiguration(configuration, dataDirectory);
        services.AddSingleton(blobs);
        services.AddOptions<FileSystemBlobStoreOptions>()
            .Configure(o =>
            {
                o.Root = blobs.Folder ?? Path.Combine(dataDirectory, "store");
                o.Fsync = !configuration.GetValue<bool>("Storage:NoFsync");
            })
            .ValidateDataAnnotations().ValidateOnStart();

        var database = MetadataDatabase.FromConfiguration(configuration, dataDirectory);
        services.AddSingleton(database);
        database.Register(services);
        blobs.Register(services);

        services.AddMetrics();
        services.AddSingleton<BerthMeter>();
        services.AddSingleton<PrometheusMetrics>();
        services.AddSingleton<UploadHashCache>();
        services.AddSingleton<UploadExpiry>();
        services.AddSingleton(_ => ReplicaSlot.Acquire(dataDirectory));
        services.AddSingleton(sp => sp.GetRequiredService<ReplicaSlot>().Identity);
        services.AddSingleton<UploadLeases>();
        services.AddScoped<GarbageCollector>();
        services.AddScoped<RetentionService>();
        services.AddScoped<BlobScrubber>();
        services.AddScoped<AccessControl>();
        services.AddScoped<AuditContext>();
        services.AddScoped<AuditTrail>();
        services.AddScoped<AuditService>();
        services.AddScoped<TokenService>();
        services.AddScoped<ExternalSignIn>();
        services.AddScoped<UserService>();
        services.AddScoped<SignInThrottler>();
        services.AddOptions<SignInOptions>().BindConfiguration(SignInOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<TeamService>();
        services.AddScoped<Bootstrapper>();
        services.AddScoped<ModelLookup>();
        services.AddScoped<NamespaceService>();
        services.AddScoped<ModelService>();
        services.AddScoped<VersionService>();
        services.AddScoped<EvaluationService>();
        services.AddScoped<LineageQueries>();
        services.AddScoped<NamespaceUsage>();
        services.AddScoped<BlobPresence>();
        services.AddScoped<LifecycleService>();
        services.AddScoped<UploadService>();
        services.AddOptions<SearchOptions>();
        services.AddScoped<SparseMatches>();
        services.AddScoped<SearchService>();
        services.AddScoped<ModelCatalog>();
        services.AddScoped<ActivityFeed>();
        services.AddScoped<HistoryService>();
        services.AddScoped<StagePolicies>();
        services.AddScoped<GateCheck>();
        services.AddScoped<PolicyService>();
        services.AddScoped<MembershipService>();
        services.AddScoped<RequestService>();
        services.AddScoped<IdempotencyStore>();
        services.AddScoped<EventLog>();
        services.AddScoped<EventService>();
        services.AddScoped<WebhookService>();
        services.AddScoped<DeploymentService>();
        services.AddScoped<RunService>();
        services.AddScoped<RunFileService>();
        services.AddScoped<MetricStore>();
        services.AddOptions<RunOptions>().BindConfiguration(RunOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<RunWatch>();
        services.AddHostedService(sp => sp.GetRequiredService<RunWatch>());
        services.AddSingleton<EventNotifier>();
        services.AddSingleton<AddressPolicy>();
        services.AddSingleton<WebhookSender>();
        services.AddSingleton<LocalDeliveries>();
        services.AddOptions<WebhookOptions>().BindConfiguration(WebhookOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddHostedService<WebhookDeliveryWorker>();
        services.AddOptions<EventStreamOptions>().BindConfiguration(EventStreamOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<InsightOptions>().BindConfiguration(InsightOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<InsightQueue>();
        services.AddScoped<InsightFiles>();
        services.AddScoped<InsightCommit>();
        services.AddScoped<InsightService>();
        services.AddSingleton<InsightWorker>();
        services.AddHostedService(sp => sp.GetRequiredService<InsightWorker>());
        services.AddSingleton<MaintenanceService>();
        services.AddHostedService(sp => sp.GetRequiredService<MaintenanceService>());
        services.AddSingleton<StartupTasks>();
        Oci.OciServices.Register(services);
        services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.SectionName);

        services.Configure<JsonOptions>(o =>
        {
            // The same strict rules as the shared context: unknown fields, duplicates and missing
            // required members are errors.
            var json = o.SerializerOptions;
            var shared = BerthJsonContext.Default.Options;
            json.TypeInfoResolverChain.Insert(0, BerthJsonContext.Default);
            json.UnmappedMemberHandling = shared.UnmappedMemberHandling;
            json.AllowDuplicateProperties = shared.AllowDuplicateProperties;
            json.RespectNullableAnnotations = shared.RespectNullableAnnotations;
            json.RespectRequiredConstructorParameters = shared.RespectRequiredConstructorParameters;
            json.TypeInfoResolver = json.TypeInfoResolver!.WithAddedModifier(Api.Http.RequestText.CheckBodies);
        });
        SecretsAtRest.Register(services, configuration, dataDirectory);
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = c => c.ProblemDetails.Extensions.Remove("traceId"));
        // The web UI (before the API's exception handler: on a page, an error is a page).
        services.AddBerthWeb(ActorExtensions.PeekActor);
        services.AddExceptionHandler<RegistryExceptionHandler>();
        services.AddBerthAuthentication(configuration);
        services.AddBerthRateLimits();
        services.AddBerthOpenApi();
    }
}
