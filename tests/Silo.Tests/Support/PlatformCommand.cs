using Platform.Silo.Tests.Etcd;

namespace Platform.Silo.Tests.Support;

/// <summary>The real <c>platform</c> command (the <c>platform.dll</c> built beside the tests) as a child process.</summary>
public static class PlatformCommand
{
    public static string Dll => Path.Combine(AppContext.BaseDirectory, "platform.dll");

    /// <summary>Starts <c>platform ARGS</c> with <paramref name="environment"/> added to this process's environment.</summary>
    public static CapturedProcess Start(IReadOnlyDictionary<string, string> environment, params string[] args)
        => CapturedProcess.Start("dotnet", [Dll, .. args], new Dictionary<string, string>(environment) { ["DOTNET_gcServer"] = "0" });

    /// <summary>Runs <c>platform ARGS</c> to its end (60 s at most).</summary>
    public static async Task<ProcessResult> RunAsync(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        await using var process = Start(environment, args);
        return await process.WaitForExitAsync(TimeSpan.FromSeconds(60));
    }
}
