using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Support;

/// <summary>One silo as another silo's GET /v1/cluster reports it.</summary>
public sealed record ClusterMember(string Name, string Address, string Status, bool Self);

/// <summary>What one silo's GET /v1/cluster answered: the members it sees and its own ledger activations.</summary>
public sealed record ClusterStatus(IReadOnlyList<ClusterMember> Silos, long LedgerActivations)
{
    public int ActiveCount => Silos.Count(s => s.Status == "Active");

    public string SelfAddress => Silos.Single(s => s.Self).Address;

    /// <summary>The status of the member with this address, or null when the silo does not list it.</summary>
    public string? StatusOf(string address) => Silos.FirstOrDefault(s => s.Address == address)?.Status;

    public override string ToString() =>
        $"[{string.Join(", ", Silos.Select(s => $"{s.Name} {s.Address} {s.Status}{(s.Self ? " (self)" : "")}"))}] ledger activations {LedgerActivations}";

    public static ClusterStatus Parse(string json)
    {
        using var doc = JsonDocument.Parse(json);
        var silos = doc.RootElement.GetProperty("silos").EnumerateArray()
            .Select(s => new ClusterMember(
                s.GetProperty("name").GetString() ?? "",
                s.GetProperty("address").GetString() ?? "",
                s.GetProperty("status").GetString() ?? "",
                s.GetProperty("self").GetBoolean()))
            .ToList();
        long ledger = 0;
        foreach (var type in doc.RootElement.GetProperty("grainTypes").EnumerateArray())
            if (type.GetProperty("grainType").GetString() == "ledger") ledger = type.GetProperty("activations").GetInt64();
        return new ClusterStatus(silos, ledger);
    }
}

/// <summary>
/// N real silo processes in one cluster on PostgreSQL (same connection string and cluster id; each with its
/// own HTTP port, silo-to-silo port and data directory). Disposing kills whatever still runs and, unless
/// <see cref="Passed"/> was set, writes each silo's log (errors capped) to the test output.
/// </summary>
public sealed class SiloClusterProcesses : IAsyncDisposable
{
    private readonly string _connection;
    private readonly ITestOutputHelper? _output;
    private readonly SiloProcess?[] _silos;
    private readonly List<SiloProcess> _retired = [];
    private readonly TempDir[] _dirs;
    private readonly HttpClient[] _clients;
    private readonly Func<int, string[]>? _extraArgs;

    /// <param name="extraArgs">More command-line arguments of silo i (its silo-to-silo certificate, say).</param>
    public SiloClusterProcesses(string postgresConnection, int count, ITestOutputHelper? output = null, string? clusterId = null, Func<int, string[]>? extraArgs = null)
    {
        _connection = postgresConnection;
        _extraArgs = extraArgs;
        _output = output;
        ClusterId = clusterId ?? "c" + Guid.NewGuid().ToString("N")[..10];
        _silos = new SiloProcess?[count];
        _dirs = [.. Enumerable.Range(0, count).Select(_ => new TempDir())];
        var ports = DistinctFreePorts(2 * count);
        HttpPorts = ports[..count];
        SiloPorts = ports[count..];
        _clients = [.. HttpPorts.Select(p => new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{p}"),
            Timeout = TimeSpan.FromSeconds(5),
        })];
    }

    /// <summary>
    /// Free loopback ports, all different: every listener stays open until all are picked (one at a time,
    /// the kernel may hand the same port out again once it was released).
    /// </summary>
    public static int[] DistinctFreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var l = new TcpListener(IPAddress.Loopback, 0);
                listeners.Add(l);
                l.Start();
            }
            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            foreach (var l in listeners) l.Dispose();
        }
    }

    public string ClusterId { get; }

    /// <summary>The PostgreSQL connection string the silos share.</summary>
    public string Connection => _connection;
    public int Count => _silos.Length;
    public int[] HttpPorts { get; }
    public int[] SiloPorts { get; }

    /// <summary>The running process of silo <paramref name="i"/>.</summary>
    public SiloProcess this[int i] => _silos[i] ?? throw new InvalidOperationException($"silo {i} is not running");

    /// <summary>A client for silo <paramref name="i"/>'s HTTP port with a short (5 s) timeout, for status polls.</summary>
    public HttpClient Client(int i) => _clients[i];

    public string Name(int i) => $"silo{i}";

    /// <summary>Set at the end of a passing test: the silos' logs are then not written to the test output.</summary>
    public bool Passed { get; set; }

    /// <summary>Starts every silo at once and waits until each answers /health/ready.</summary>
    public Task StartAllAsync() => Task.WhenAll(Enumerable.Range(0, Count).Select(StartAsync));

    /// <summary>Starts (or restarts, on the same ports and data directory) silo <paramref name="i"/>.</summary>
    public async Task StartAsync(int i)
    {
        if (_silos[i] is { } old)
        {
            if (!old.HasExited) throw new InvalidOperationException($"silo {i} is still running");
            _retired.Add(old);
            _silos[i] = null;
        }
        _silos[i] = await SiloProcess.StartAsync(_dirs[i].Path, HttpPorts[i],
        [
            "--storage", "postgres",
            "--postgres", _connection,
            "--cluster-id", ClusterId,
            "--silo-name", Name(i),
            "--silo-port", SiloPorts[i].ToString(System.Globalization.CultureInfo.InvariantCulture),
            .. _extraArgs?.Invoke(i) ?? [],
        ]);
    }

    public async Task<ClusterStatus> StatusAsync(int i) => ClusterStatus.Parse(await _clients[i].GetStringAsync("/v1/cluster"));

    /// <summary>Polls until <paramref name="condition"/> holds for the status of every silo in <paramref name="silos"/>; returns the time it took.</summary>
    public async Task<TimeSpan> WaitForAsync(IReadOnlyList<int> silos, Func<int, ClusterStatus, bool> condition, TimeSpan timeout, string what)
    {
        var clock = Stopwatch.StartNew();
        var last = new string?[Count];
        while (true)
        {
            var ok = await Task.WhenAll(silos.Select(async i =>
            {
                try
                {
                    var status = await StatusAsync(i);
                    last[i] = status.ToString();
                    return condition(i, status);
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
                {
                    last[i] = $"no answer: {e.Message}";
                    return false;
                }
            }));
            if (ok.All(x => x)) return clock.Elapsed;
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"not within {timeout.TotalSeconds:0} s: {what}\n" +
                    string.Join("\n", silos.Select(i => $"  {Name(i)} sees {last[i]}")));
            await Task.Delay(50);
        }
    }

    /// <summary>Waits until every listed silo (all by default) sees exactly <paramref name="active"/> Active silos.</summary>
    public Task<TimeSpan> WaitForActiveAsync(int active, TimeSpan timeout, IReadOnlyList<int>? silos = null) =>
        WaitForAsync(silos ?? [.. Enumerable.Range(0, Count)], (_, s) => s.ActiveCount == active, timeout, $"every silo sees {active} Active silos");

    public async ValueTask DisposeAsync()
    {
        foreach (var silo in _silos)
            if (silo is not null && !silo.HasExited)
            {
                try
                {
                    await silo.KillAsync();
                }
                catch (InvalidOperationException)
                {
                }
            }
        for (var i = 0; i < Count; i++)
        {
            if (_silos[i] is not { } silo) continue;
            if (_output is not null && !Passed) WriteLog(Name(i), silo.Output);
            await silo.DisposeAsync();
        }
        foreach (var old in _retired)
        {
            if (_output is not null && !Passed) WriteLog("earlier incarnation", old.Output);
            await old.DisposeAsync();
        }
        foreach (var c in _clients) c.Dispose();
        foreach (var d in _dirs) d.Dispose();
    }

    /// <summary>
    /// Writes a silo's log: every line but errors, the first errors in full and a count of the rest
    /// (a stuck grain repeats the same error thousands of times), each line cut at 1,000 characters.
    /// </summary>
    private void WriteLog(string name, string log)
    {
        const int Errors = 15, MaxLines = 400;
        var lines = log.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var kept = new List<string>();
        var errors = 0;
        foreach (var line in lines)
        {
            var isError = line.Contains(" fail: ", StringComparison.Ordinal) || line.Contains(" crit: ", StringComparison.Ordinal);
            if (isError && ++errors > Errors) continue;
            kept.Add(line.Length > 1000 ? line[..1000] + "…" : line);
        }
        if (kept.Count > MaxLines) kept = kept[^MaxLines..];
        try
        {
            _output!.WriteLine($"----- {name}: {lines.Length} lines, {errors} errors ({Math.Max(0, errors - Errors)} not shown) -----\n{string.Join('\n', kept)}");
        }
        catch (InvalidOperationException)
        {
            // No test is running any more.
        }
    }
}

/// <summary>
/// Keeps writing to ledger grains over HTTP: one sequential writer per key, each write a new entry
/// (e{n} = n, n increasing), sent to a random silo among the current targets. Records every write
/// acknowledged with 200 and every failure. Stopping lets each writer finish its call in flight.
/// </summary>
public sealed class LedgerLoad : IAsyncDisposable
{
    /// <summary>An acknowledged write; the times are Stopwatch timestamps.</summary>
    public sealed record Ack(string Entry, long Value, long StartedAt, long CompletedAt);

    public sealed record Failure(string Key, string Entry, string Target, string Error, TimeSpan At);

    private sealed class KeyLog
    {
        public readonly List<Ack> Acks = [];
        public long LastAckStartedAt = long.MinValue;
    }

    private readonly Dictionary<string, KeyLog> _logs;
    private readonly (string Name, HttpClient Client)[] _all;
    private readonly System.Collections.Concurrent.ConcurrentQueue<Failure> _failures = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly TimeSpan _pause;
    private volatile int[] _targets;
    private volatile bool _stopping;
    private Task _running = Task.CompletedTask;
    private long _attempts;

    /// <param name="httpPorts">The silos' HTTP ports, by silo index.</param>
    public LedgerLoad(IEnumerable<string> keys, IReadOnlyList<int> httpPorts, TimeSpan requestTimeout, TimeSpan pauseBetweenWrites)
    {
        _logs = keys.ToDictionary(k => k, _ => new KeyLog());
        _all = [.. httpPorts.Select((p, i) => ($"silo{i}", new HttpClient(new SocketsHttpHandler { PooledConnectionIdleTimeout = TimeSpan.FromSeconds(5) })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{p}"),
            Timeout = requestTimeout,
        }))];
        _targets = [.. Enumerable.Range(0, httpPorts.Count)];
        _pause = pauseBetweenWrites;
    }

    public IReadOnlyCollection<string> Keys => _logs.Keys;
    public IReadOnlyCollection<Failure> Failures => _failures;
    public long Attempts => Interlocked.Read(ref _attempts);
    public int AcknowledgedCount => _logs.Values.Sum(l => { lock (l) return l.Acks.Count; });

    /// <summary>From now on, new writes go only to these silos (by index).</summary>
    public void SetTargets(params int[] silos) => _targets = silos;

    public void Start() => _running = Task.WhenAll(_logs.Select(kv => Task.Run(() => WriteLoopAsync(kv.Key, kv.Value))));

    /// <summary>Stops the writers once each finished its call in flight.</summary>
    public async Task StopAsync()
    {
        _stopping = true;
        await _running;
    }

    public ValueTask DisposeAsync()
    {
        _stopping = true;
        foreach (var (_, c) in _all) c.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>The acknowledged writes of <paramref name="key"/> (read after <see cref="StopAsync"/>).</summary>
    public IReadOnlyList<Ack> Acknowledged(string key)
    {
        var log = _logs[key];
        lock (log) return [.. log.Acks];
    }

    /// <summary>Waits until every key had a write acknowledged that started at or after <paramref name="since"/> (a Stopwatch timestamp).</summary>
    public async Task<TimeSpan> WaitUntilEveryKeyAcknowledgedSinceAsync(long since, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var waiting = _logs.Where(kv => Volatile.Read(ref kv.Value.LastAckStartedAt) < since).Select(kv => kv.Key).ToList();
            if (waiting.Count == 0) return clock.Elapsed;
            if (clock.Elapsed > timeout)
            {
                var recent = _failures.Reverse().Take(10).Select(f => $"  {f.At.TotalSeconds:0.000}s {f.Key}/{f.Entry} via {f.Target}: {f.Error}");
                throw new TimeoutException($"{waiting.Count} keys had no acknowledged write within {timeout.TotalSeconds:0} s: {string.Join(", ", waiting.Take(20))}\n" +
                    $"last failures:\n{string.Join("\n", recent)}\nfirst {DescribeFailures(15)}");
            }
            await Task.Delay(20);
        }
    }

    public string DescribeFailures(int max = 30)
    {
        var all = _failures.ToList();
        var lines = all.Take(max).Select(f => $"  {f.At.TotalSeconds:0.000}s {f.Key}/{f.Entry} via {f.Target}: {f.Error}");
        return $"{all.Count} failed of {Attempts} writes:\n{string.Join("\n", lines)}{(all.Count > max ? "\n  ..." : "")}";
    }

    public TimeSpan Elapsed => _clock.Elapsed;

    private async Task WriteLoopAsync(string key, KeyLog log)
    {
        long n = 0;
        while (!_stopping)
        {
            n++;
            var targets = _targets;
            var (name, client) = _all[targets[Random.Shared.Next(targets.Length)]];
            var entry = $"e{n}";
            var started = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _attempts);
            try
            {
                using var response = await client.PutAsync($"/test/ledger/{key}/{entry}/{n}", null);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    lock (log) log.Acks.Add(new Ack(entry, n, started, Stopwatch.GetTimestamp()));
                    Volatile.Write(ref log.LastAckStartedAt, started);
                }
                else
                {
                    var body = await response.Content.ReadAsStringAsync();
                    _failures.Enqueue(new Failure(key, entry, name, $"HTTP {(int)response.StatusCode}: {Truncate(body)}", _clock.Elapsed));
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException or ObjectDisposedException)
            {
                _failures.Enqueue(new Failure(key, entry, name, $"{e.GetType().Name}: {Truncate(e.Message)}", _clock.Elapsed));
            }
            if (_pause > TimeSpan.Zero) await Task.Delay(_pause);
        }
    }

    private static string Truncate(string s) => s.Length > 400 ? s[..400] + "…" : s;
}
