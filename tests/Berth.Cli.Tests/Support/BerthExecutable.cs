using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Berth.Cli.Tests.Support;

/// <summary>
/// Finds the built <c>berth.dll</c> (recorded at build time by the project file; BERTH_CLI_DLL overrides)
/// and the <c>dotnet</c> host that runs it.
/// </summary>
public static class BerthExecutable
{
    public static string DllPath { get; } = LocateDll();

    public static string DotnetHost { get; } = LocateDotnet();

    public static ProcessStartInfo StartInfo(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo(DotnetHost)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = Path.GetTempPath(),
        };
        info.ArgumentList.Add(DllPath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        info.Environment["DOTNET_NOLOGO"] = "1";
        return info;
    }

    private static string LocateDll()
    {
        var path = Environment.GetEnvironmentVariable("BERTH_CLI_DLL") is { Length: > 0 } overridden
            ? overridden
            : typeof(BerthExecutable).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>().SingleOrDefault(a => a.Key == "BerthCliPath")?.Value;
        if (string.IsNullOrEmpty(path) || !File.Exists(path))
        {
            throw new InvalidOperationException(
                $"berth.dll was not found (expected at '{path}'). Build the solution (dotnet build Berth.slnx) or set BERTH_CLI_DLL.");
        }

        return path;
    }

    private static string LocateDotnet()
    {
        var exe = RuntimeInformation.IsOSPlatform(OSPlatform.Windows) ? "dotnet.exe" : "dotnet";
        if (Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host))
        {
            return host;
        }

        // <root>/shared/Microsoft.NETCore.App/<version>/ → <root>/dotnet
        var root = Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", ".."));
        var candidate = Path.Combine(root, exe);
        return File.Exists(candidate) ? candidate : exe;
    }
}
