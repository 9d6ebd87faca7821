using System.Runtime.Versioning;
using Berth.Cli.Tests.Support;

[assembly: AssemblyFixture(typeof(ServerFixture))]

// The tests check Unix file modes and use script(1) for a terminal.
[assembly: UnsupportedOSPlatform("windows")]
