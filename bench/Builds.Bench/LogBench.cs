using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Nodes.Bench;

namespace Platform.Builds.Bench;

/// <summary>
/// Log streaming: one build step printing N MB (lines of about 100 bytes, some in colour) on a real <c>platform agent</c>
/// process with a build slot, checked out from a local bare git repository; the bench follows the step's log
/// (<c>?follow=true</c>) from the moment the job exists to its end and times from the script's start to the last byte
/// at the follower. Side by side, in each round, the floor: the same script piped into a loopback TCP connection the
/// bench reads, and the same script to /dev/null. Every byte the script printed must reach each reader.
/// </summary>
internal static class LogBench
{
    private const string Repo = "bench/logs";
    private const string StepKey = "print";
    private const string RunnerLinePrefix = "~~~ platform: ";
    private const double Mb = 1024 * 1024;

    /// <summary>One round of one path: wall times in ms, CPU in ms of the processes that carry the bytes.</summary>
    private sealed record Sample(long Bytes, double ToLastByteMs, double FirstToLastMs, double ScriptMs, double SiloCpuMs, double AgentCpuMs, double ReaderCpuMs, long Records);

    public static async Task<int> RunAsync(string[] args)
    {
        var mb = BenchArgs.Int(args, "--mb", 50);
        // The follower keeps the whole log in memory to check it: one array.
        if (mb > 1024) throw new BenchFailure($"--mb '{mb}' is over 1024; expected at most 1024 MB");
        var rounds = BenchArgs.Int(args, "--rounds", 3);
        var warmup = BenchArgs.Int(args, "--warmup", 1, min: 0);
        var siloDll = BenchArgs.SiloDll;
        var cliDll = BenchArgs.CliDll;
        if (!File.Exists(cliDll)) throw new BenchFailure($"'{cliDll}' does not exist; build it first: dotnet build src/Cli -c Release");

        var loadBefore = LoadAverage();
        var work = Directory.CreateTempSubdirectory("log-bench-");
        try
        {
            var payload = Path.Combine(work.FullName, "payload.txt");
            var size = WritePayload(payload, (long)(mb * Mb));
            var payloadSha = SHA256.HashData(File.ReadAllBytes(payload));
            var stamp = Path.Combine(work.FullName, "stamp");
            var (cloneUrl, commit, script) = await CreateRepositoryAsync(work.FullName, payload, stamp);
            Console.WriteLine($"payload {size} bytes ({mb} MB), {File.ReadLines(payload).Count()} lines; repository {cloneUrl} at {commit[..12]}");

            await using var silo = await SiloHost.StartAsync(siloDll, Path.Combine(work.FullName, "silo"));
            Console.WriteLine($"silo pid {silo.Pid} at {silo.Url}");
            await using var agent = await StartAgentAsync(cliDll, work.FullName, silo);
            Console.WriteLine($"agent pid {agent.Pid} alive");
            using (var put = await silo.Http.PutAsJsonAsync($"/v1/repos/{Repo}", new { cloneUrl, secret = "unused-bench-secret" }))
                if (!put.IsSuccessStatusCode) throw new BenchFailure($"PUT /v1/repos/{Repo} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
            var db = Path.Combine(work.FullName, "silo", "platform.db");

            using var follower = new HttpClient(new SocketsHttpHandler()) { BaseAddress = new Uri(silo.Url), Timeout = Timeout.InfiniteTimeSpan };
            var platform = new List<Sample>();
            var tcp = new List<Sample>();
            var devNull = new List<Sample>();
            // Untimed builds first, so that neither process's JIT is in the figures.
            for (var round = 1; round <= warmup; round++)
            {
                var w = await PlatformRoundAsync(silo, agent, follower, commit, size, payloadSha, stamp, db);
                Console.WriteLine($"warm-up {round}: {Rate(w):0.0} MB/s, silo {w.SiloCpuMs / (w.Bytes / Mb):0.0} ms CPU/MB, agent {w.AgentCpuMs / (w.Bytes / Mb):0.0} ms CPU/MB");
            }
            for (var round = 1; round <= rounds; round++)
            {
                var p = await PlatformRoundAsync(silo, agent, follower, commit, size, payloadSha, stamp, db);
                platform.Add(p);
                Console.WriteLine($"round {round} platform: {Rate(p):0.0} MB/s, script start → last byte {p.ToLastByteMs:0} ms (script {p.ScriptMs:0} ms), silo {p.SiloCpuMs / (p.Bytes / Mb):0.0} ms CPU/MB, agent {p.AgentCpuMs / (p.Bytes / Mb):0.0} ms CPU/MB, {p.Records} journal records");
                var t = await TcpFloorAsync(script, payload, stamp, size, payloadSha);
                tcp.Add(t);
                Console.WriteLine($"round {round} floor tcp: {Rate(t):0.0} MB/s, {t.ToLastByteMs:0} ms, reader {t.ReaderCpuMs / (t.Bytes / Mb):0.0} ms CPU/MB");
                var n = await NullFloorAsync(script, payload, stamp, size);
                devNull.Add(n);
                Console.WriteLine($"round {round} floor /dev/null: {Rate(n):0.0} MB/s, {n.ToLastByteMs:0} ms");
            }

            var floorRate = Median(tcp, Rate);
            Console.WriteLine();
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; load average before {loadBefore}, after {LoadAverage()}");
            Console.WriteLine($"date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; command: bench/builds.sh log --mb {mb} --rounds {rounds} --warmup {warmup}");
            Console.WriteLine($"median of {rounds} rounds; {size / Mb:0} MB, script start to the last byte at the reader");
            Console.WriteLine("| path | MB/s | time | the script's own run | silo CPU/MB | agent CPU/MB | reader CPU/MB | journal records/MB | of the TCP floor |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|---|");
            Row("Platform: step → agent → silo → follower (HTTP)", platform, floorRate);
            Row("floor: script piped into loopback TCP, read by the bench", tcp, floorRate);
            Row("floor: script > /dev/null", devNull, floorRate);
            return 0;
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private static double Rate(Sample s) => s.Bytes / Mb / (s.ToLastByteMs / 1000);

    private static double Median(List<Sample> samples, Func<Sample, double> value)
    {
        var sorted = samples.Select(value).Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static void Row(string path, List<Sample> samples, double floorRate)
    {
        var mb = samples[0].Bytes / Mb;
        string PerMb(Func<Sample, double> cpu) => samples.All(s => cpu(s) < 0) ? "–" : $"{Median(samples, cpu) / mb:0.0} ms";
        var records = samples[0].Records < 0 ? "–" : $"{Median(samples, s => s.Records) / mb:0.0}";
        Console.WriteLine($"| {path} | {Median(samples, Rate):0.0} | {Median(samples, s => s.ToLastByteMs):0} ms | {Median(samples, s => s.ScriptMs):0} ms | "
            + $"{PerMb(s => s.SiloCpuMs)} | {PerMb(s => s.AgentCpuMs)} | {PerMb(s => s.ReaderCpuMs)} | {records} | {Median(samples, Rate) / floorRate:0.00} |");
    }

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]);

    /// <summary>
    /// Writes exactly <paramref name="size"/> bytes of build-like output: lines of 60–140 bytes (about 100 on average),
    /// every fourth with an ANSI colour, the last one cut to fit and ended with a newline.
    /// </summary>
    private static long WritePayload(string path, long size)
    {
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var random = new Random(42);
        var line = new StringBuilder();
        long written = 0;
        for (var n = 0; written < size; n++)
        {
            line.Clear();
            var colour = n % 4 == 0;
            if (colour) line.Append(n % 8 == 0 ? "\e[32m" : "\e[33m");
            line.Append(CultureInfo.InvariantCulture, $"[{n / 1000.0,10:0.000}] {(colour ? "WARN" : "INFO")} ");
            if (colour) line.Append("\e[0m");
            line.Append(CultureInfo.InvariantCulture, $"compile src/module_{n % 977:000}/unit_{n % 53:00}.c -> build/obj/module_{n % 977:000}.o ");
            var target = 60 + random.Next(81);
            while (line.Length < target - 1) line.Append((char)('a' + random.Next(26)));
            line.Append('\n');
            var bytes = Encoding.UTF8.GetBytes(line.ToString());
            var take = (int)Math.Min(bytes.Length, size - written);
            if (take < bytes.Length) bytes[take - 1] = (byte)'\n';
            file.Write(bytes, 0, take);
            written += take;
        }
        return written;
    }

    /// <summary>
    /// A bare repository (file:// URL) whose pipeline has one step, <c>print.sh PAYLOAD STAMP</c>: the prepared file to
    /// stdout, with the wall clock in ns written to STAMP.start and STAMP.end around it. Answers the URL, the commit and
    /// the script's path in the source tree (the floor runs that same file).
    /// </summary>
    private static async Task<(string CloneUrl, string Commit, string Script)> CreateRepositoryAsync(string work, string payload, string stamp)
    {
        var source = Path.Combine(work, "source");
        Directory.CreateDirectory(Path.Combine(source, ".platform"));
        File.WriteAllText(Path.Combine(source, ".platform", "pipeline.yml"),
            $"steps:\n  - key: {StepKey}\n    run: print.sh\n    args: [\"{payload}\", \"{stamp}\"]\n    timeout: 10m\n");
        var script = Path.Combine(source, "print.sh");
        File.WriteAllText(script, "#!/bin/sh\n# Prints the prepared file $1; the wall clock (ns) before and after goes to $2.start and $2.end.\n"
            + "date +%s%N > \"$2.start\"\ncat \"$1\"\ndate +%s%N > \"$2.end\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(script, (UnixFileMode)0b111_101_101); // the floor runs it in place
        await GitAsync(source, "init", "--quiet", "--initial-branch=main");
        await GitAsync(source, "add", ".");
        await GitAsync(source, "update-index", "--chmod=+x", "print.sh");
        await GitAsync(source, "-c", "user.name=bench", "-c", "user.email=bench@example.org", "commit", "--quiet", "-m", "pipeline");
        var bare = Path.Combine(work, "logs.git");
        await GitAsync(work, "clone", "--quiet", "--bare", source, bare);
        return ("file://" + bare, (await GitAsync(source, "rev-parse", "HEAD")).Trim(), script);
    }

    private static async Task<string> GitAsync(string dir, params string[] args)
    {
        var (exit, output) = await ChildProcess.RunAsync("git", ["-C", dir, .. args], TimeSpan.FromSeconds(60));
        if (exit != 0) throw new BenchFailure($"git {string.Join(' ', args)} in {dir} exited with {exit}:\n{output}");
        return output;
    }

    /// <summary>A <c>platform agent</c> process with two build slots (the pipeline job and the step), alive at the silo.</summary>
    private static async Task<ChildProcess> StartAgentAsync(string cliDll, string work, SiloHost silo)
    {
        var dir = Path.Combine(work, "agent");
        Directory.CreateDirectory(dir);
        var config = Path.Combine(dir, "agent.json");
        var port = FreePorts.Take(1)[0];
        File.WriteAllText(config, JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["node_name"] = "log-bench-agent",
            ["servers"] = new[] { silo.Url },
            ["data_dir"] = Path.Combine(dir, "data"),
            ["bind"] = $"127.0.0.1:{port}",
            ["build_slots"] = 2,
            ["log_level"] = "warn",
        }));
        var env = new Dictionary<string, string> { ["PLATFORM_URL"] = "", ["PLATFORM_TOKEN"] = "", ["DOTNET_gcServer"] = "0" };
        var agent = ChildProcess.Start("platform agent", "dotnet", [cliDll, "agent", "-config-file", config], env);
        try
        {
            await silo.WaitAliveCountAsync(1, TimeSpan.FromSeconds(60), "log-bench-agent");
        }
        catch (BenchFailure e)
        {
            await agent.DisposeAsync();
            throw new BenchFailure($"{e.Message}\nagent output:\n{agent.Tail}");
        }
        return agent;
    }

    /// <summary>
    /// A build started through the API; its step's log followed from the moment the job exists, read to the end and
    /// checked against the payload (the runner's own lines aside).
    /// </summary>
    private static async Task<Sample> PlatformRoundAsync(SiloHost silo, ChildProcess agent, HttpClient follower, string commit, long size, byte[] payloadSha, string stamp, string db)
    {
        var records0 = await JournalRecordsAsync(db);
        var silo0 = silo.Counters();
        var agent0 = ProcessCounters.Read(agent.Pid.ToString(CultureInfo.InvariantCulture));
        string id;
        using (var created = await silo.Http.PostAsJsonAsync("/v1/builds", new { repo = Repo, branch = "main", commit }))
        {
            var body = await created.Content.ReadAsStringAsync();
            if (!created.IsSuccessStatusCode) throw new BenchFailure($"POST /v1/builds answered {(int)created.StatusCode}: {body}");
            id = JsonDocument.Parse(body).RootElement.GetProperty("id").GetString()!;
        }
        var clock = Stopwatch.StartNew();
        while (Job(await BuildAsync(silo, id)) is null)
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new BenchFailure($"build {id} has no job '{StepKey}' after 60 s: {await BuildAsync(silo, id)}\nagent:\n{agent.Tail}");
            agent.EnsureAlive();
            await Task.Delay(10);
        }

        using var response = await follower.GetAsync($"/v1/builds/{id}/jobs/{StepKey}/log?follow=true", HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode) throw new BenchFailure($"GET the log of {id}/{StepKey} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        var received = new MemoryStream(checked((int)size + (1 << 20)));
        long firstByte = 0, lastByte = 0;
        await using (var stream = await response.Content.ReadAsStreamAsync())
        {
            var buffer = new byte[128 * 1024];
            int read;
            while ((read = await stream.ReadAsync(buffer)) > 0)
            {
                lastByte = UnixClock.NowNanos();
                if (firstByte == 0) firstByte = lastByte;
                received.Write(buffer, 0, read);
            }
        }
        var build = await WaitEndAsync(silo, id);
        var siloCpu = (silo.Counters() - silo0).CpuMs;
        var agentCpu = (ProcessCounters.Read(agent.Pid.ToString(CultureInfo.InvariantCulture)) - agent0).CpuMs;
        var state = Job(build)?.GetProperty("state").GetString();
        if (state != "passed") throw new BenchFailure($"job {id}/{StepKey} ended {state}: {build}\nagent:\n{agent.Tail}");

        var output = StepOutput(received.GetBuffer().AsSpan(0, (int)received.Length));
        if (output.Length != size || !SHA256.HashData(output).AsSpan().SequenceEqual(payloadSha))
            throw new BenchFailure($"the follower of {id}/{StepKey} got {received.Length} bytes, of which {output.Length} are the step's output; expected the {size} bytes printed, byte for byte");
        var (start, end) = ReadStamps(stamp);
        return new Sample(size, UnixClock.MillisBetween(start, lastByte), UnixClock.MillisBetween(firstByte, lastByte), UnixClock.MillisBetween(start, end),
            siloCpu, agentCpu, -1, await JournalRecordsAsync(db) - records0);
    }

    /// <summary>The log without the runner's own lines: what the step printed.</summary>
    private static byte[] StepOutput(ReadOnlySpan<byte> log)
    {
        var prefix = Encoding.UTF8.GetBytes(RunnerLinePrefix);
        var output = new MemoryStream(log.Length);
        while (!log.IsEmpty)
        {
            var newline = log.IndexOf((byte)'\n');
            var line = newline < 0 ? log : log[..(newline + 1)];
            if (!line.StartsWith(prefix)) output.Write(line);
            log = log[line.Length..];
        }
        return output.ToArray();
    }

    private static JsonElement? Job(JsonElement build)
    {
        foreach (var job in build.GetProperty("jobs").EnumerateArray())
            if (job.GetProperty("key").GetString() == StepKey) return job;
        return null;
    }

    private static async Task<JsonElement> BuildAsync(SiloHost silo, string id)
    {
        using var r = await silo.Http.GetAsync($"/v1/builds/{id}");
        var text = await r.Content.ReadAsStringAsync();
        if (!r.IsSuccessStatusCode) throw new BenchFailure($"GET /v1/builds/{id} answered {(int)r.StatusCode}: {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private static async Task<JsonElement> WaitEndAsync(SiloHost silo, string id)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var build = await BuildAsync(silo, id);
            if (build.GetProperty("state").GetString() is "passed" or "failed" or "canceled") return build;
            if (clock.Elapsed > TimeSpan.FromSeconds(60)) throw new BenchFailure($"build {id} did not end within 60 s of its log: {build}");
            await Task.Delay(10);
        }
    }

    /// <summary>Records in the silo's journal of job logs so far (sqlite3 reading the silo's file); -1 without sqlite3.</summary>
    private static async Task<long> JournalRecordsAsync(string db)
    {
        try
        {
            var (exit, output) = await ChildProcess.RunAsync("sqlite3", ["-readonly", db, "SELECT count(*) FROM journal_log WHERE stream LIKE 'joblog/%'"], TimeSpan.FromSeconds(30));
            return exit == 0 && long.TryParse(output.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return -1;
        }
    }

    private static (long Start, long End) ReadStamps(string stamp)
    {
        var start = long.Parse(File.ReadAllText(stamp + ".start").Trim(), CultureInfo.InvariantCulture);
        var end = long.Parse(File.ReadAllText(stamp + ".end").Trim(), CultureInfo.InvariantCulture);
        File.Delete(stamp + ".start");
        File.Delete(stamp + ".end");
        return (start, end);
    }

    /// <summary>The floor: the same script with its stdout a loopback TCP connection (bash's /dev/tcp) that the bench reads to the end.</summary>
    private static async Task<Sample> TcpFloorAsync(string script, string payload, string stamp, long size, byte[] payloadSha)
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var self0 = ProcessCounters.Read("self");
        var run = ChildProcess.RunAsync("bash", ["-c", "exec \"$0\" \"$1\" \"$2\" > /dev/tcp/127.0.0.1/$3", script, payload, stamp, port.ToString(CultureInfo.InvariantCulture)], TimeSpan.FromMinutes(5));
        Socket socket;
        try
        {
            socket = await listener.AcceptSocketAsync().WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            throw new BenchFailure($"the TCP floor's script did not connect to port {port} within 60 s: {(run.IsCompleted ? (await run).Output : "still running")}");
        }
        using var _ = socket;
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = new byte[128 * 1024];
        long bytes = 0, firstByte = 0, lastByte = 0;
        int read;
        while ((read = await socket.ReceiveAsync(buffer)) > 0)
        {
            lastByte = UnixClock.NowNanos();
            if (firstByte == 0) firstByte = lastByte;
            sha.AppendData(buffer, 0, read);
            bytes += read;
        }
        var readerCpu = (ProcessCounters.Read("self") - self0).CpuMs;
        var (exit, output) = await run;
        if (exit != 0) throw new BenchFailure($"the TCP floor's script exited with {exit}: {output}");
        if (bytes != size || !sha.GetHashAndReset().AsSpan().SequenceEqual(payloadSha))
            throw new BenchFailure($"the TCP floor's reader got {bytes} bytes; expected the {size} bytes printed, byte for byte");
        var (start, end) = ReadStamps(stamp);
        return new Sample(size, UnixClock.MillisBetween(start, lastByte), UnixClock.MillisBetween(firstByte, lastByte), UnixClock.MillisBetween(start, end), -1, -1, readerCpu, -1);
    }

    /// <summary>The floor under the floor: the script with its stdout /dev/null, from its start stamp to its end stamp.</summary>
    private static async Task<Sample> NullFloorAsync(string script, string payload, string stamp, long size)
    {
        var (exit, output) = await ChildProcess.RunAsync("bash", ["-c", "exec \"$0\" \"$1\" \"$2\" > /dev/null", script, payload, stamp], TimeSpan.FromMinutes(5));
        if (exit != 0) throw new BenchFailure($"the /dev/null floor's script exited with {exit}: {output}");
        var (start, end) = ReadStamps(stamp);
        var ms = UnixClock.MillisBetween(start, end);
        return new Sample(size, ms, ms, ms, -1, -1, -1, -1);
    }
}
