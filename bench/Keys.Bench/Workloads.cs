using System.Diagnostics;

namespace Platform.Keys.Bench;

/// <summary>The workloads of the comparison, each run against one target and recorded in the table.</summary>
public sealed class Workloads(BenchOptions options, ResultTable table)
{
    private const string FanKey = "/fan";
    private static readonly TimeSpan RegisterTimeout = TimeSpan.FromSeconds(120);
    private static readonly TimeSpan NotifyTimeout = TimeSpan.FromSeconds(60);

    private TimeSpan Warmup => TimeSpan.FromSeconds(options.Warmup);
    private TimeSpan Window => TimeSpan.FromSeconds(options.Seconds);
    private TimeSpan Settle => TimeSpan.FromSeconds(options.SettleSeconds);

    /// <summary>Lets other processes' work pass first (see --quiet-cores), saying so when that took a while.</summary>
    private async Task WaitQuietAsync(Target target)
    {
        if (!await QuietMachine.WaitAsync(target.Pid, options.QuietCores, TimeSpan.FromSeconds(options.QuietWaitSeconds)))
            Console.WriteLine($"  {target.Name,-9} (the machine stayed busy: other processes used ≥ {options.QuietCores:0.##} cores for the {options.QuietWaitSeconds:0} s waited)");
    }

    private static string Key(int n) => $"/bench/k{n}";

    private string Value(int n)
    {
        var prefix = $"v{n}-";
        return prefix + new string('x', Math.Max(0, options.ValueBytes - prefix.Length));
    }

    private byte[][] PutRequests(Target t) => [.. Enumerable.Range(0, options.Keys).Select(n => Requests.Put(t.Host, "/v2/keys" + Key(n), Value(n)))];

    private string? CheckPut(int n, ResponseHead head, ReadOnlySpan<byte> body) => Answers.CheckKey(head, body, "set", Key(n), Value(n), 200, 201);

    private string? CheckGet(int n, ResponseHead head, ReadOnlySpan<byte> body) => Answers.CheckKey(head, body, "get", Key(n), Value(n), 200);

    /// <summary>
    /// Unrecorded load before the first measurement, so that no workload pays for a cold server (the JIT compiling
    /// the silo's hot paths, etcd's first allocations): PUTs and GETs with 64 clients, then one 1,000-watcher fan-out.
    /// </summary>
    public async Task WarmUpAsync(Target target)
    {
        if (options.ServerWarmupSeconds <= 0) return;
        using (var watchers = new WatcherSet(target, 1000))
        {
            await watchers.OpenAsync();
            using var control = await target.ConnectAsync();
            await FanoutRoundAsync(target, watchers, control, $"{target.Name}, warm-up fan-out", "warm-up");
        }
        if (options.FanoutOnly.Contains(target.Name))
        {
            await SmallFanoutsAsync(target);
            Console.WriteLine($"  {target.Name,-9} warmed up: one fan-out to 1,000 watchers, {options.WarmupFanouts} to {SmallFanout}");
            return;
        }
        var half = TimeSpan.FromSeconds(options.ServerWarmupSeconds / 2);
        var puts = await RequestLoad.RunAsync(target, "warm-up PUTs", 64, PutRequests(target), CheckPut, TimeSpan.Zero, half);
        var gets = await RequestLoad.RunAsync(target, "warm-up GETs", 64,
            [.. Enumerable.Range(0, options.Keys).Select(n => Requests.Get(target.Host, "/v2/keys" + Key(n)))], CheckGet, TimeSpan.Zero, half);
        await SmallFanoutsAsync(target);
        Console.WriteLine($"  {target.Name,-9} warmed up: {puts.PerSecond:#,0} PUT/s and {gets.PerSecond:#,0} GET/s with 64 clients for {half.TotalSeconds:0.#} s each, one fan-out to 1,000 watchers, {options.WarmupFanouts} to {SmallFanout}");
    }

    /// <summary>Watchers of each warm-up fan-out: more than one wake chunk, fewer than a round's.</summary>
    private const int SmallFanout = 200;

    /// <summary>
    /// Fan-outs to <see cref="SmallFanout"/> watchers, back to back, once the rest of the warm-up is over. A method a
    /// fan-out runs once per PUT (the delivery, the hand-off to the threads that wake) is compiled at full
    /// optimization only after .NET has counted 30 calls, and 30 more in the instrumented tier between, and it counts
    /// only once no new method has been compiled for 100 ms: until then each round would pay for the JIT's work in
    /// the background. A silo that has served a few hundred writes to watched keys is past this.
    /// </summary>
    private async Task SmallFanoutsAsync(Target target)
    {
        if (options.WarmupFanouts == 0) return;
        var where = $"{target.Name}, warm-up fan-outs to {SmallFanout} watchers";
        using var watchers = new WatcherSet(target, SmallFanout);
        await watchers.OpenAsync();
        using var control = await target.ConnectAsync();
        await Task.Delay(TimeSpan.FromMilliseconds(300));
        for (var i = 0; i < options.WarmupFanouts; i++)
        {
            var round = watchers.Start($"/v2/keys{FanKey}?wait=true");
            await round.WaitRegisteredAsync(where, RegisterTimeout);
            await control.SendAsync(Requests.Put(target.Host, "/v2/keys" + FanKey, $"small-{i}"));
            var (head, body) = await control.ReadResponseAsync();
            if (!head.IsSuccess) throw new BenchFailure($"{where}: the PUT answered HTTP {head.Status}: {System.Text.Encoding.UTF8.GetString(body.Span)}");
            await round.WaitDoneAsync(where, NotifyTimeout);
        }
    }

    /// <summary>PUT /v2/keys/bench/k{n} with value=..., closed loop, for each client count.</summary>
    public async Task PutAsync(Target target)
    {
        var requests = PutRequests(target);
        foreach (var clients in options.PutClients)
        {
            await WaitQuietAsync(target);
            Record(target, $"PUT, {clients} client{(clients == 1 ? "" : "s")}",
                await RequestLoad.RunAsync(target, $"PUT with {clients} clients", clients, requests, CheckPut, Warmup, Window));
        }
    }

    /// <summary>GET /v2/keys/bench/k{n} of keys written first, closed loop.</summary>
    public async Task GetAsync(Target target)
    {
        await RequestLoad.PopulateAsync(target, PutRequests(target), CheckPut);
        var requests = Enumerable.Range(0, options.Keys).Select(n => Requests.Get(target.Host, "/v2/keys" + Key(n))).ToArray();
        foreach (var clients in options.GetClients)
        {
            await WaitQuietAsync(target);
            Record(target, $"GET, {clients} client{(clients == 1 ? "" : "s")}",
                await RequestLoad.RunAsync(target, $"GET with {clients} clients", clients, requests, CheckGet, Warmup, Window));
        }
    }

    private void Record(Target target, string name, LoadResult r)
    {
        var l = r.Latency;
        Console.WriteLine($"  {target.Name,-9} {name,-18} {r.PerSecond,10:#,0} req/s  p50 {Ms(l.P50),7} ms  p99 {Ms(l.P99),7} ms  max {Ms(l.Max),7} ms  " +
                          $"({r.Requests:N0} in {r.Seconds:0.#} s{(r.Reconnects > 0 ? $", {r.Reconnects:N0} reconnects" : "")}, driver allocated {r.DriverAllocated / (double)Math.Max(1, r.Requests):0} B/request); {r.Cpu}");
        table.Add($"{name}: requests/s", Better.Higher, target.Name, r.PerSecond);
        table.Add($"{name}: p50 ms", Better.Lower, target.Name, l.P50 / 1000);
        table.Add($"{name}: p99 ms", Better.Lower, target.Name, l.P99 / 1000);
        table.Add($"{name}: max ms", Better.Lower, target.Name, l.Max / 1000);
        if (target.Pid is not null)
            table.Add($"{name}: server CPU µs/request", Better.Lower, target.Name, r.Cpu.ServerCores * 1e6 / r.PerSecond);
        table.Add($"{name}: driver CPU µs/request", Better.None, target.Name, r.Cpu.DriverCores * 1e6 / r.PerSecond);
        table.Add($"{name}: other processes' CPU, cores", Better.None, target.Name, r.Cpu.OtherCores);
    }

    /// <summary>
    /// For each watcher count: N watchers on one key of each target, all registered, then one PUT; the latency from
    /// just before the PUT is written to each watcher's complete response. Several rounds, the targets' rounds
    /// interleaved (round r of every target, in an order that rotates with r) so that drift of the machine over the
    /// run falls on every target alike, each after the machine is quiet (a target whose watchers were just closed is
    /// still busy); the round with the median time-to-last-watcher is reported.
    /// </summary>
    public async Task FanoutAsync(IReadOnlyList<Target> targets)
    {
        foreach (var driver in options.Drivers)
            foreach (var count in options.Watchers)
                await FanoutAsync(targets, driver, count);
    }

    private async Task FanoutAsync(IReadOnlyList<Target> targets, DriverKind driver, int count)
    {
        var kind = driver == DriverKind.Raw ? "" : ", HttpClient";
        // Every target's watchers stay connected across the rounds when this process may open that many files;
        // otherwise each target's are connected for its round and closed after it.
        var limit = ProcStats.OpenFilesLimit(Environment.ProcessId);
        var keepOpen = (long)count * targets.Count + 500 <= limit;
        if (!keepOpen)
            Console.WriteLine($"  fan-out {count:N0}{kind}: {count:N0} watchers for each of {targets.Count} targets exceed this process's open-file limit ({limit:N0}); each target's are connected for its round and closed after it");
        var open = new (IWatcherSet? Watchers, HttpConnection? Control)[targets.Count];
        var sets = targets.Select(t => (Target: t, Rounds: new List<FanoutRound>())).ToArray();
        try
        {
            for (var r = 1; r <= options.Rounds; r++)
            {
                for (var i = 0; i < targets.Count; i++)
                {
                    var t = (i + r - 1) % targets.Count;
                    var (target, rounds) = sets[t];
                    target.EnsureAlive();
                    if (open[t].Watchers is null)
                    {
                        open[t].Watchers = IWatcherSet.Create(driver, target, count);
                        await open[t].Watchers!.OpenAsync();
                        open[t].Control = await target.ConnectAsync();
                    }
                    await WaitQuietAsync(target);
                    var where = $"{target.Name}, fan-out to {count:N0} watchers{kind}";
                    var round = await FanoutRoundAsync(target, open[t].Watchers!, open[t].Control!, $"{where}, round {r}", $"round-{r}-of-{count}");
                    Console.WriteLine($"  {target.Name,-9} fan-out {count,6:N0}{kind} round {r}: registered in {round.RegisterSeconds:0.00} s; PUT answered in {Ms(round.PutMicros)} ms; " +
                                      $"watchers p50 {Ms(round.Latency.P50)} ms  p99 {Ms(round.Latency.P99)} ms  max {Ms(round.Latency.Max)} ms; " +
                                      $"CPU from PUT to last watcher: server {round.ServerCpuSeconds * 1000:0.0} ms, driver {round.DriverCpuSeconds * 1000:0.0} ms" +
                                      (round.ClosedByServer > 0 ? $"; {round.ClosedByServer:N0} watch connections closed by the server" : ""));
                    rounds.Add(round);
                    if (!keepOpen) Close(ref open[t]);
                    await Task.Delay(Settle);
                }
            }
        }
        finally
        {
            for (var t = 0; t < open.Length; t++) Close(ref open[t]);
        }
        foreach (var (target, rounds) in sets)
        {
            // Watcher latencies from one round (percentiles of different rounds do not combine); the rest is
            // the median over rounds.
            var median = rounds.OrderBy(x => x.Latency.Max).ElementAt((rounds.Count - 1) / 2);
            var name = $"fan-out {count:N0} watchers{kind}";
            table.Add($"{name}: p50 ms", Better.Lower, target.Name, median.Latency.P50 / 1000);
            table.Add($"{name}: p99 ms", Better.Lower, target.Name, median.Latency.P99 / 1000);
            table.Add($"{name}: max ms", Better.Lower, target.Name, median.Latency.Max / 1000);
            table.Add($"{name}: PUT answered ms", Better.Lower, target.Name, Median(rounds, x => x.PutMicros) / 1000);
            if (target.Pid is not null)
                table.Add($"{name}: server CPU ms", Better.Lower, target.Name, Median(rounds, x => x.ServerCpuSeconds) * 1000);
            table.Add($"{name}: driver CPU ms", Better.None, target.Name, Median(rounds, x => x.DriverCpuSeconds) * 1000);
        }
    }

    private static void Close(ref (IWatcherSet? Watchers, HttpConnection? Control) open)
    {
        open.Watchers?.Dispose();
        open.Control?.Dispose();
        open = default;
    }

    private static double Median(List<FanoutRound> rounds, Func<FanoutRound, double> value)
    {
        var sorted = rounds.Select(value).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private sealed record FanoutRound(Percentiles Latency, double PutMicros, double RegisterSeconds, double ServerCpuSeconds, double DriverCpuSeconds, int ClosedByServer);

    private async Task<FanoutRound> FanoutRoundAsync(Target target, IWatcherSet watchers, HttpConnection control, string where, string value)
    {
        var errors = new ErrorTally(where);
        var started = Stopwatch.GetTimestamp();
        var round = watchers.Start($"/v2/keys{FanKey}?wait=true");
        await round.WaitRegisteredAsync(where, RegisterTimeout);
        var registerSeconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        CheckRegistered(round, errors);
        await Task.Delay(Settle);

        var put = Requests.Put(target.Host, "/v2/keys" + FanKey, value);
        var serverThreads = target.Pid is { } pid ? ProcStats.ThreadCpuByThread(pid) : null;
        var driverThreads = ProcStats.ThreadCpuByThread(Environment.ProcessId);
        var t0 = Stopwatch.GetTimestamp();
        await control.SendAsync(put);
        var (head, body) = await control.ReadResponseAsync();
        var putMicros = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
        long modifiedIndex = -1;
        if (!head.IsSuccess) errors.Non2xx(head, body.Span);
        else if (Answers.CheckKey(head, body.Span, "set", FanKey, value, 200, 201) is { } wrong) errors.WrongAnswer("the PUT: " + wrong);
        else modifiedIndex = KeyEvent.Parse(body.Span).ModifiedIndex;
        errors.ThrowIfAny();

        await round.WaitDoneAsync(where, NotifyTimeout);
        var serverThreadsAfter = target.Pid is { } p ? ProcStats.ThreadCpuByThread(p) : null;
        var serverCpu = serverThreads is null ? double.NaN : ProcStats.ThreadCpuSeconds(serverThreads, serverThreadsAfter!);
        var driverCpu = ProcStats.ThreadCpuSeconds(driverThreads, ProcStats.ThreadCpuByThread(Environment.ProcessId));
        if (options.ThreadCpu && serverThreads is not null)
            Console.WriteLine($"    {target.Name}: server CPU by thread, ms: {ProcStats.ByName(serverThreads, serverThreadsAfter!)}");
        target.EnsureAlive();

        var latency = new LatencyHistogram();
        for (var i = 0; i < watchers.Count; i++)
        {
            if (round.Failures[i] is { } failure)
            {
                errors.Failed(failure);
                continue;
            }
            latency.Record(round.DoneTicks[i] - t0);
            if (Answers.CheckEvent(round.Bodies[i], "set", FanKey, value, modifiedIndex) is { } bad) errors.WrongAnswer($"watcher {i}: {bad}");
        }
        errors.ThrowIfAny();
        return new FanoutRound(latency.Measured(), putMicros, registerSeconds, serverCpu, driverCpu, round.ClosedByServer);
    }

    /// <summary>Every watch must have answered 200 with its headers (an error answers at once and would pass for "registered").</summary>
    private static void CheckRegistered(WatchRound round, ErrorTally errors)
    {
        for (var i = 0; i < round.Heads.Length; i++)
        {
            if (round.Failures[i] is { } failure) errors.Failed(failure);
            else if (round.Heads[i].Status != 200) errors.WrongAnswer($"watcher {i}: the watch answered HTTP {round.Heads[i].Status}, expected 200 with the event to follow");
        }
        errors.ThrowIfAny();
    }

    /// <summary>Resident memory of the server before and with N idle registered watchers; then one PUT releases them.</summary>
    public async Task MemoryAsync(Target target)
    {
        if (target.Pid is not { } pid)
        {
            Console.WriteLine($"  {target.Name,-9} memory: skipped (no process id given)");
            return;
        }
        var count = options.MemoryWatchers;
        var where = $"{target.Name}, {count:N0} idle watchers";
        await WaitQuietAsync(target);
        await Task.Delay(TimeSpan.FromSeconds(2));
        var before = ProcStats.RssKiB(pid);
        using var watchers = new WatcherSet(target, count);
        await watchers.OpenAsync();
        var round = watchers.Start($"/v2/keys{FanKey}?wait=true");
        await round.WaitRegisteredAsync(where, RegisterTimeout);
        CheckRegistered(round, new ErrorTally(where));
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(2, options.SettleSeconds)));
        var with = ProcStats.RssKiB(pid);

        using var control = await target.ConnectAsync();
        await control.SendAsync(Requests.Put(target.Host, "/v2/keys" + FanKey, "release"));
        var (head, body) = await control.ReadResponseAsync();
        var errors = new ErrorTally(where);
        if (!head.IsSuccess) errors.Non2xx(head, body.Span);
        errors.ThrowIfAny();
        await round.WaitDoneAsync(where, NotifyTimeout);
        target.EnsureAlive();

        var perWatcher = (with - before) / (double)count;
        Console.WriteLine($"  {target.Name,-9} memory: RSS {before / 1024.0:0.0} MiB before, {with / 1024.0:0.0} MiB with {count:N0} idle watchers: {perWatcher:0.0} KiB per watcher");
        table.Add("RSS before the watchers, MiB", Better.Lower, target.Name, before / 1024.0);
        table.Add($"RSS with {count:N0} idle watchers, MiB", Better.Lower, target.Name, with / 1024.0);
        table.Add("RSS per idle watcher, KiB", Better.Lower, target.Name, perWatcher);
    }

    private static string Ms(double micros) => ResultTable.Number(micros / 1000);
}
