using System.Globalization;
using Platform.Nodes.Bench;

namespace Platform.Builds.Bench;

/// <summary>Options shared by the builds benchmarks.</summary>
internal static class BenchArgs
{
    public static string SiloDll { get; } =
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src/Silo/bin/Release/net10.0/Platform.Silo.dll"));

    /// <summary>The <c>platform</c> CLI (src/Cli, Release) whose <c>agent</c> command runs build jobs.</summary>
    public static string CliDll { get; } =
        Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../src/Cli/bin/Release/net10.0/platform.dll"));

    public static int Int(string[] args, string name, int fallback, int min = 1)
    {
        var at = Array.IndexOf(args, name);
        if (at < 0) return fallback;
        if (at + 1 >= args.Length || !int.TryParse(args[at + 1], NumberStyles.None, CultureInfo.InvariantCulture, out var value) || value < min)
            throw new BenchFailure($"{name} '{(at + 1 < args.Length ? args[at + 1] : "")}' is not a whole number of {min} or more");
        return value;
    }
}
