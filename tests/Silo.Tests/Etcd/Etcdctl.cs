namespace Platform.Silo.Tests.Etcd;

/// <summary><c>ETCDCTL_API=2 etcdctl --endpoints URL [--no-sync] ARGS</c>, the etcd 3.4 client in its v2 mode.</summary>
public static class Etcdctl
{
    private static readonly Dictionary<string, string> V2 = new() { ["ETCDCTL_API"] = "2" };

    public static CapturedProcess Start(Uri endpoint, IEnumerable<string> args, bool noSync = false)
    {
        List<string> all = ["--endpoints", endpoint.ToString().TrimEnd('/')];
        if (noSync) all.Add("--no-sync");
        all.AddRange(args);
        return CapturedProcess.Start("etcdctl", all, V2);
    }

    /// <summary>Runs etcdctl to completion.</summary>
    public static async Task<ProcessResult> RunAsync(Uri endpoint, IEnumerable<string> args, bool noSync = false)
    {
        await using var process = Start(endpoint, args, noSync);
        return await process.WaitForExitAsync(TimeSpan.FromSeconds(30));
    }
}
