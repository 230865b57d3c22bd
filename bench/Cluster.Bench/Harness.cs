using Platform.Runtime.Membership;

namespace Platform.Cluster.Bench;

/// <summary>
/// The driver's side of a benchmark cluster: a fresh cluster id on the PostgreSQL membership table, the driver's own
/// silo (this process), the <c>serve</c> children it spawns, and a directory with every silo's log.
/// </summary>
public sealed class Harness : IAsyncDisposable
{
    private readonly List<ChildSilo> _children = [];

    private Harness(string postgres, string clusterId, string logDir, FileLog log, ClusterSilo driver, BenchCertificates? certificates)
    {
        Certificates = certificates;
        Postgres = postgres;
        ClusterId = clusterId;
        LogDir = logDir;
        Log = log;
        Driver = driver;
    }

    public string Postgres { get; }
    public string ClusterId { get; }
    public string LogDir { get; }
    public FileLog Log { get; }
    public ClusterSilo Driver { get; }

    /// <summary>The cluster's CA and certificates when its silos talk TLS; null for plain TCP.</summary>
    public BenchCertificates? Certificates { get; }

    public static async Task<Harness> StartAsync(string postgres, string mode, bool tls = false)
    {
        var clusterId = $"bench-{mode}-{DateTime.UtcNow:yyyyMMddHHmmss}-{Guid.NewGuid().ToString("N")[..6]}";
        var logDir = Path.Combine(Path.GetTempPath(), "platform-cluster-bench", clusterId);
        Directory.CreateDirectory(logDir);
        var log = FileLog.ToFile(Path.Combine(logDir, "driver.log"));
        var certificates = tls ? new BenchCertificates(logDir) : null;
        var driver = await ClusterSilo.StartAsync(postgres, clusterId, 0, "driver", log, certificates?.Issue("driver"));
        return new Harness(postgres, clusterId, logDir, log, driver, certificates);
    }

    /// <summary>Starts a <c>serve</c> child and waits until it is Active (it prints READY after becoming Active).</summary>
    public async Task<ChildSilo> SpawnAsync(string name)
    {
        var child = ChildSilo.Start(Postgres, ClusterId, name, LogDir, Certificates?.Issue(name));
        _children.Add(child);
        await child.WaitReadyAsync(TimeSpan.FromSeconds(60));
        return child;
    }

    /// <summary>Waits until the driver and every one of <paramref name="children"/> see exactly <paramref name="active"/> Active silos.</summary>
    public async Task WaitForActiveAsync(int active, IReadOnlyList<ChildSilo> children, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            if (Driver.View.ActiveSilos.Count == active && children.All(c => c.LatestView?.Active == active)) return;
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"views did not converge on {active} active silos within {timeout.TotalSeconds:0} s: driver sees {Driver.View.ActiveSilos.Count}, "
                    + string.Join(", ", children.Select(c => $"{c.Name} sees {c.LatestView?.Active.ToString() ?? "nothing"}")) + $"; logs in {LogDir}");
            await Task.Delay(10);
        }
    }

    /// <summary>Keys whose activation the placement puts in process <paramref name="pid"/>: asks each candidate grain for its host's pid.</summary>
    public async Task<List<string>> KeysOnAsync(int pid, int count, string prefix)
    {
        var keys = new List<string>(count);
        var next = 0;
        while (keys.Count < count)
        {
            var batch = Enumerable.Range(next, 256).Select(i => $"{prefix}{i}").ToArray();
            next += 256;
            var pids = await Task.WhenAll(batch.Select(k => Driver.Factory.GetGrain<IEchoGrain>(k).Pid()));
            keys.AddRange(batch.Where((_, i) => pids[i] == pid));
            if (next > 50 * count + 10_000)
                throw new InvalidOperationException($"only {keys.Count} of {next} keys are placed on process {pid}; wanted {count}");
        }
        return keys.GetRange(0, count);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var c in _children) await c.DisposeAsync();
        await Driver.DisposeAsync();
        Log.Dispose();
    }

    /// <summary>Log lines (of every silo) that mention <paramref name="silo"/> and contain <paramref name="text"/>, with the file and the monotonic timestamp.</summary>
    public IEnumerable<(string File, long Timestamp, string Line)> LogLines(SiloAddress silo, string text)
    {
        var needle = silo.ToString();
        foreach (var file in Directory.EnumerateFiles(LogDir, "*.log"))
        {
            string[] lines;
            try
            {
                using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
                lines = new StreamReader(stream).ReadToEnd().Split('\n');
            }
            catch (IOException) { continue; }
            foreach (var line in lines)
            {
                if (!line.Contains(text, StringComparison.Ordinal) || !line.Contains(needle, StringComparison.Ordinal)) continue;
                var t = line.IndexOf(" t=", StringComparison.Ordinal);
                if (t < 0) continue;
                var end = line.IndexOf(' ', t + 3);
                if (end > 0 && long.TryParse(line.AsSpan(t + 3, end - t - 3), out var ts))
                    yield return (Path.GetFileNameWithoutExtension(file), ts, line);
            }
        }
    }
}
