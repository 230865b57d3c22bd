using System.Globalization;
using System.Text.Json;

namespace Platform.Nodes.Bench;

/// <summary>A silo process (the Release build of src/Silo) on a free loopback port, SQLite in a temporary folder.</summary>
public sealed class SiloHost : IAsyncDisposable
{
    private readonly ChildProcess _process;

    private SiloHost(ChildProcess process, int port)
    {
        _process = process;
        Url = $"http://127.0.0.1:{port}";
        Http = new HttpClient { BaseAddress = new Uri(Url), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string Url { get; }
    public HttpClient Http { get; }
    public int Pid => _process.Pid;

    public static async Task<SiloHost> StartAsync(string siloDll, string dataDir)
    {
        if (!File.Exists(siloDll)) throw new BenchFailure($"--silo '{siloDll}' does not exist; build it first: dotnet build src/Silo -c Release");
        var port = FreePorts.Take(1)[0];
        var silo = new SiloHost(ChildProcess.Start("silo", "dotnet", [siloDll, "--urls", $"http://127.0.0.1:{port}", "--data-dir", dataDir]), port);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (true)
        {
            silo._process.EnsureAlive();
            try
            {
                using var r = await silo.Http.GetAsync("/health/ready");
                if (r.IsSuccessStatusCode) return silo;
            }
            catch (HttpRequestException)
            {
            }
            if (DateTime.UtcNow > deadline)
            {
                await silo.DisposeAsync();
                throw new BenchFailure("the silo was not ready within 60 s");
            }
            await Task.Delay(100);
        }
    }

    /// <summary>Fires a user event with coalescing off; returns the wall clock in ns just before the request was sent.</summary>
    public async Task<long> FireEventAsync(string name)
    {
        using var body = new ByteArrayContent("bench"u8.ToArray());
        var t0 = UnixClock.NowNanos();
        using var response = await Http.PostAsync($"/v1/events/{Uri.EscapeDataString(name)}?coalesce=false", body);
        if (!response.IsSuccessStatusCode)
            throw new BenchFailure($"POST /v1/events/{name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        return t0;
    }

    /// <summary>How many nodes GET /v1/nodes?status=alive lists.</summary>
    public async Task<int> AliveCountAsync(string? name = null)
    {
        var query = name is null ? "/v1/nodes?status=alive" : $"/v1/nodes?status=alive&name=^{Uri.EscapeDataString(name)}$";
        using var response = await Http.GetAsync(query);
        if (!response.IsSuccessStatusCode) throw new BenchFailure($"GET {query} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        using var json = JsonDocument.Parse(await response.Content.ReadAsStreamAsync());
        var root = json.RootElement;
        if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("nodes", out var nodes)) root = nodes;
        return root.ValueKind == JsonValueKind.Array ? root.GetArrayLength() : throw new BenchFailure($"GET {query}: expected a JSON array of nodes, got {root.ValueKind}");
    }

    public async Task WaitAliveCountAsync(int count, TimeSpan timeout, string? name = null)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            _process.EnsureAlive();
            var alive = await AliveCountAsync(name);
            if (alive >= count) return;
            if (DateTime.UtcNow > deadline) throw new BenchFailure($"the silo lists {alive} of {count} nodes{(name is null ? "" : " named " + name)} alive after {timeout.TotalSeconds:0} s");
            await Task.Delay(100);
        }
    }

    public long RssKiB()
    {
        foreach (var line in File.ReadLines($"/proc/{Pid}/status"))
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                return long.Parse(line[6..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        throw new BenchFailure($"/proc/{Pid}/status has no VmRSS");
    }

    public string Tail => _process.Tail;

    /// <summary>The silo's CPU time and bytes written so far.</summary>
    public ProcessCounters Counters() => ProcessCounters.Read(Pid.ToString(CultureInfo.InvariantCulture));

    /// <summary>CPU used so far by the silo's garbage collector threads (server GC and background GC), in 10 ms ticks.</summary>
    public double GcCpuMs()
    {
        var pid = Pid.ToString(CultureInfo.InvariantCulture);
        return ProcessCounters.ThreadsCpuMs(pid, ".NET Server GC") + ProcessCounters.ThreadsCpuMs(pid, ".NET BGC");
    }

    public void EnsureAlive() => _process.EnsureAlive();

    /// <summary>
    /// Waits until the runtime's tiered-compilation thread used under 10 ms of CPU in a second (at most
    /// <paramref name="limit"/>): a silo that runs for days has long compiled its hot paths, and a figure taken while
    /// the JIT still works measures the JIT. Returns how long it took.
    /// </summary>
    public async Task<TimeSpan> WaitForJitQuietAsync(TimeSpan limit)
    {
        var pid = Pid.ToString(CultureInfo.InvariantCulture);
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        var before = ProcessCounters.ThreadsCpuMs(pid, ".NET Tiered");
        while (System.Diagnostics.Stopwatch.GetElapsedTime(started) < limit)
        {
            await Task.Delay(TimeSpan.FromSeconds(1));
            var now = ProcessCounters.ThreadsCpuMs(pid, ".NET Tiered");
            if (now - before < 10) break;
            before = now;
        }
        return System.Diagnostics.Stopwatch.GetElapsedTime(started);
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _process.DisposeAsync();
    }
}
