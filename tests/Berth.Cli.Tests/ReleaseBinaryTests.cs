using System.Diagnostics;
using System.Net;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Berth.Cli.Tests.Support;

namespace Berth.Cli.Tests;

/// <summary>
/// The README's download path: scripts/release.sh builds this platform's self-contained single file and SHA256SUMS;
/// that one file, run with an environment that names nothing of .NET (<c>env -i</c>, only PATH and HOME), prints its
/// version, serves (the web UI's pages and assets too), pushes and pulls byte-identically, and stops cleanly on SIGTERM.
/// The file always runs on its embedded SQLite (nothing of the test environment reaches it), so scripts/test.sh runs
/// this class in its SQLite pass only (it carries no Database=both trait).
/// </summary>
public sealed class ReleaseBinaryTests
{
    /// <summary>The script's first run in a clone compiles berth and ReadyToRun code (docs/deploy.md, "Binaries").</summary>
    private static readonly TimeSpan ScriptDeadline = TimeSpan.FromMinutes(20);

    private static readonly TimeSpan ServerDeadline = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task TheReleaseFileOfThisPlatformRunsWithoutDotnetServesPushesAndPulls()
    {
        var cancellationToken = TestContext.Current.CancellationToken;
        var root = RepositoryRoot();
        var version = XDocument.Load(Path.Combine(root, "Directory.Build.props")).Descendants("Version").First().Value;
        var rid = $"{(OperatingSystem.IsMacOS() ? "osx" : "linux")}-{RuntimeInformation.OSArchitecture.ToString().ToLowerInvariant()}";
        var work = TempFolder.Create("berth-release");
        try
        {
            // The script reuses the everyday build of the libraries and leaves it as it was (other tests run from it meanwhile).
            var everyday = EverydayBuild(root);
            var output = Path.Combine(work, "release");
            var script = new ProcessStartInfo("bash", [Path.Combine(root, "scripts", "release.sh"), "--rid", rid, "--output", output]) { WorkingDirectory = work };
            foreach (var name in script.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase)).ToList())
            {
                script.Environment.Remove(name);
            }

            var built = await RunAsync(script, ScriptDeadline, cancellationToken);
            Assert.True(built.ExitCode == 0, $"release.sh exited with {built.ExitCode}:\n{built.Stdout}\n{built.Stderr}");
            Assert.True(
                everyday.SequenceEqual(EverydayBuild(root)),
                "release.sh rebuilt libraries of the everyday build (src/*/bin/Release), which other tests run from. Was that build out of date? "
                + "A commit after it changes the libraries' informational version (+<commit>), so the next build of any kind compiles them again.");

            // One file and its checksum, which sha256sum verifies.
            var file = $"berth-{version}-{rid}";
            Assert.Equal(["SHA256SUMS", file], Directory.GetFileSystemEntries(output).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            var sums = await RunAsync(new ProcessStartInfo("sha256sum", ["-c", "SHA256SUMS"]) { WorkingDirectory = output }, ProcessRunner.Timeout, cancellationToken);
            Assert.True(sums.ExitCode == 0, $"sha256sum -c: {sums.Stdout}{sums.Stderr}");
            Assert.Equal($"{file}: OK\n", sums.Stdout);
            var berth = Path.Combine(output, file);

            // --version, with nothing of .NET in the environment; SQLite's native library is extracted under
            // ~/.net/<file name>/, or under DOTNET_BUNDLE_EXTRACT_BASE_DIR/<file name>/.
            var home = Directory.CreateDirectory(Path.Combine(work, "home")).FullName;
            var shown = await RunAsync(Clean(berth, home, ["--version"]), ProcessRunner.Timeout, cancellationToken);
            Assert.True(shown.ExitCode == 0 && shown.Stderr.Length == 0, $"berth --version exited with {shown.ExitCode}: {shown.Stderr}");
            Assert.Equal(version + "\n", shown.Stdout);
            Assert.Contains(Directory.EnumerateFiles(Path.Combine(home, ".net", file), "*", SearchOption.AllDirectories), f => Path.GetFileName(f).Contains("e_sqlite3", StringComparison.Ordinal));
            var extractBase = Path.Combine(work, "extract");
            var elsewhere = await RunAsync(Clean(berth, home, ["--version"], $"DOTNET_BUNDLE_EXTRACT_BASE_DIR={extractBase}"), ProcessRunner.Timeout, cancellationToken);
            Assert.True(elsewhere.ExitCode == 0, $"berth --version exited with {elsewhere.ExitCode}: {elsewhere.Stderr}");
            Assert.Contains(Directory.EnumerateFiles(Path.Combine(extractBase, file), "*", SearchOption.AllDirectories), f => Path.GetFileName(f).Contains("e_sqlite3", StringComparison.Ordinal));

            // berth serve on a free port and a fresh data folder.
            var data = Path.Combine(work, "data");
            var url = $"http://127.0.0.1:{ServerProcess.FreePort()}";
            var log = new StringBuilder();
            using var server = Process.Start(Clean(berth, home, ["serve", "--data", data, "--urls", url])) ?? throw new InvalidOperationException("Could not start berth serve.");
            server.OutputDataReceived += (_, e) => Append(log, e.Data);
            server.ErrorDataReceived += (_, e) => Append(log, e.Data);
            server.BeginOutputReadLine();
            server.BeginErrorReadLine();
            server.StandardInput.Close();
            try
            {
                Assert.True(await ServerProcess.WaitUntilHealthyAsync(server, url, cancellationToken, ServerDeadline), $"berth serve did not answer GET /healthz with 200 at {url}:\n{Text(log)}");

                // The process runs on the .NET inside the file: it maps nothing of the .NET installed on this machine.
                var maps = await File.ReadAllLinesAsync($"/proc/{server.Id}/maps", cancellationToken);
                Assert.Contains(maps, line => line.EndsWith(berth, StringComparison.Ordinal));
                var installed = DotnetRoot();
                Assert.DoesNotContain(maps, line => line.Contains(installed, StringComparison.Ordinal));

                // Push and pull with the same file, as a user without .NET would.
                var token = (await File.ReadAllTextAsync(Path.Combine(data, "admin-token"), cancellationToken)).Trim();
                using var model = new ModelFolder(("weights.bin", (3 * 1024 * 1024) + 17), ("config.json", 300), ("tokenizer/vocab.txt", 4000));
                var pulled = Path.Combine(work, "pulled");
                string[][] commands = [["login", url, "--token", token], ["push", model.Root, "acme/fraud"], ["pull", "acme/fraud:1", "-o", pulled]];
                foreach (var args in commands)
                {
                    var result = await RunAsync(Clean(berth, home, args), ProcessRunner.Timeout, cancellationToken);
                    Assert.True(result.ExitCode == 0, $"berth {string.Join(' ', args)} exited with {result.ExitCode}:\n{result.Stdout}\n{result.Stderr}");
                }

                ModelFolder.AssertSameTree(model.Root, pulled);

                // The web UI's pages and assets are inside the file too.
                using (var http = new HttpClient())
                {
                    var signIn = await http.GetStringAsync(new Uri(url + "/signin"), cancellationToken);
                    var stylesheet = Regex.Match(signIn, "href=\"(/static/berth\\.[^\"]+\\.css)\"");
                    Assert.True(stylesheet.Success, "The sign-in page links no stylesheet:\n" + signIn);
                    using var css = await http.GetAsync(new Uri(url + stylesheet.Groups[1].Value), cancellationToken);
                    Assert.Equal(HttpStatusCode.OK, css.StatusCode);
                    Assert.Equal("text/css", css.Content.Headers.ContentType?.MediaType);
                    Assert.True((await css.Content.ReadAsByteArrayAsync(cancellationToken)).Length > 1000, "The stylesheet is (nearly) empty.");
                }

                // SIGTERM: a clean shutdown, exit code 0.
                using (var kill = Process.Start("kill", ["-TERM", server.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
                {
                    await kill.WaitForExitAsync(cancellationToken);
                    Assert.Equal(0, kill.ExitCode);
                }

                using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                deadline.CancelAfter(ServerDeadline);
                await server.WaitForExitAsync(deadline.Token);
                Assert.True(server.ExitCode == 0, $"berth serve exited with {server.ExitCode} after SIGTERM:\n{Text(log)}");
                Assert.Contains("Application is shutting down", Text(log), StringComparison.Ordinal);
            }
            finally
            {
                if (!server.HasExited)
                {
                    server.Kill(entireProcessTree: true);
                    await server.WaitForExitAsync(CancellationToken.None);
                }
            }
        }
        finally
        {
            TempFolder.Delete(work);
        }
    }

    /// <summary><c>env -i PATH=/usr/bin:/bin HOME=&lt;home&gt; [variables] &lt;file&gt; &lt;args&gt;</c>: no DOTNET_ROOT, no other variable.</summary>
    private static ProcessStartInfo Clean(string file, string home, string[] args, params string[] variables)
    {
        var info = new ProcessStartInfo("/usr/bin/env")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = home,
        };
        foreach (var argument in (string[])["-i", "PATH=/usr/bin:/bin", $"HOME={home}", .. variables, file, .. args])
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    /// <summary>The everyday build's assemblies (src/*/bin/Release) with their times of last writing.</summary>
    private static List<string> EverydayBuild(string root)
    {
        var files = Directory.GetDirectories(Path.Combine(root, "src"))
            .Select(project => Path.Combine(project, "bin", "Release"))
            .Where(Directory.Exists)
            .SelectMany(bin => Directory.EnumerateFiles(bin, "*.dll", SearchOption.AllDirectories))
            .Where(f => Path.GetFileName(f).StartsWith("Berth.", StringComparison.Ordinal) || Path.GetFileName(f) == "berth.dll")
            .Select(f => $"{Path.GetRelativePath(root, f)} {File.GetLastWriteTimeUtc(f):O}")
            .Order(StringComparer.Ordinal)
            .ToList();
        Assert.NotEmpty(files);
        return files;
    }

    /// <summary>The root of the .NET that runs these tests (<c>&lt;root&gt;/shared/Microsoft.NETCore.App/&lt;version&gt;/</c>).</summary>
    private static string DotnetRoot() =>
        Path.GetFullPath(Path.Combine(RuntimeEnvironment.GetRuntimeDirectory(), "..", "..", "..")).TrimEnd('/') + "/";

    private static async Task<(int ExitCode, string Stdout, string Stderr)> RunAsync(ProcessStartInfo info, TimeSpan timeout, CancellationToken cancellationToken)
    {
        info.RedirectStandardInput = true;
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = true;
        info.UseShellExecute = false;
        using var process = Process.Start(info) ?? throw new InvalidOperationException($"Could not start {info.FileName}.");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{info.FileName} {string.Join(' ', info.ArgumentList)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await stdout, await stderr);
    }

    private static void Append(StringBuilder log, string? line)
    {
        if (line is not null)
        {
            lock (log)
            {
                log.AppendLine(line);
            }
        }
    }

    private static string Text(StringBuilder log)
    {
        lock (log)
        {
            return log.ToString();
        }
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
}
