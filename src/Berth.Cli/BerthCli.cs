using System.CommandLine;
using Berth.Cli.Commands;

namespace Berth.Cli;

/// <summary>The <c>berth</c> command line: the CLI for the registry and, with <c>serve</c>, the server itself.</summary>
internal static class BerthCli
{
    public static async Task<int> RunAsync(string[] args)
    {
        var root = new RootCommand("Berth: a self-hosted model registry. 'berth serve' runs the server; the other commands talk to one.");
        root.Subcommands.Add(ServeCommand.Create());
        return await root.Parse(args).InvokeAsync();
    }
}
