using Berth.Core.Oci;
using Microsoft.Extensions.DependencyInjection;

namespace Berth.Server.Oci;

/// <summary>The services of the OCI distribution API.</summary>
internal static class OciServices
{
    public static void Register(IServiceCollection services)
    {
        services.AddOptions<OciOptions>().BindConfiguration(OciOptions.SectionName).ValidateDataAnnotations().ValidateOnStart();
        services.AddScoped<GeneratedBlobs>();
        services.AddScoped<OciRegistry>();
        services.AddSingleton<OciTokens>();
        services.AddHostedService<OciManifestBackfill>();
    }
}
