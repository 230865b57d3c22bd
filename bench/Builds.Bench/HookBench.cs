using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Platform.Dashboard.Bench;
using Platform.Nodes.Bench;

namespace Platform.Builds.Bench;

/// <summary>
/// Push hook → job on an agent: a silo process (embedded SQLite), N idle simulated build agents over the real agent
/// protocol, and one repository with a secret. Each round posts a signed GitHub push (a branch of its own, so no build
/// skips another) and times from just before the POST to the moment an agent receives the build's first job frame
/// (its pipeline job: on a real agent the checkout starts then). Rounds run one after another with a short pause.
/// </summary>
internal static class HookBench
{
    private const string Repo = "bench/hooked";
    private const string Secret = "bench-hook-secret";

    public static async Task<int> RunAsync(string[] args)
    {
        var agents = BenchArgs.Int(args, "--agents", 100);
        var rounds = BenchArgs.Int(args, "--rounds", 500);
        var warmup = BenchArgs.Int(args, "--warmup", 50);
        var siloDll = BenchArgs.SiloDll;

        var loadBefore = File.ReadAllText("/proc/loadavg").Split(' ')[..3];
        var dataDir = Directory.CreateTempSubdirectory("builds-bench-");
        try
        {
            await using var silo = await SiloHost.StartAsync(siloDll, dataDir.FullName);
            Console.WriteLine($"silo pid {silo.Pid} at {silo.Url}");
            var received = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
            var waiters = new ConcurrentDictionary<string, TaskCompletionSource<long>>(StringComparer.Ordinal);
            var fleet = new List<BuildAgent>();
            for (var i = 0; i < agents; i++)
            {
                var agent = new BuildAgent($"hook-agent-{i:000}", 2)
                {
                    JobReceived = job =>
                    {
                        if (job.Step is not null) return;
                        var at = Stopwatch.GetTimestamp();
                        if (received.TryAdd(job.BuildId, at) && waiters.TryGetValue(job.BuildId, out var waiter)) waiter.TrySetResult(at);
                    },
                };
                await agent.ConnectAsync(silo.Url);
                fleet.Add(agent);
            }
            Console.WriteLine($"{agents} build agents connected");
            using (var put = await silo.Http.PutAsJsonAsync($"/v1/repos/{Repo}", new { cloneUrl = "file:///nonexistent/hooked.git", secret = Secret }))
                if (!put.IsSuccessStatusCode) throw new BenchFailure($"PUT /v1/repos answered {(int)put.StatusCode}");

            var latencies = new List<double>();
            var cpu0 = silo.Counters();
            var total = Stopwatch.StartNew();
            for (var round = 1; round <= warmup + rounds; round++)
            {
                if (round == warmup + 1)
                {
                    cpu0 = silo.Counters();
                    total.Restart();
                }
                var id = $"{Repo}/{round}";
                var waiter = new TaskCompletionSource<long>(TaskCreationOptions.RunContinuationsAsynchronously);
                waiters[id] = waiter;
                using var request = Push(round);
                var start = Stopwatch.GetTimestamp();
                using var response = await silo.Http.SendAsync(request);
                var body = await response.Content.ReadAsStringAsync();
                if (!response.IsSuccessStatusCode) throw new BenchFailure($"hook {round} answered {(int)response.StatusCode}: {body}");
                var built = JsonDocument.Parse(body).RootElement.GetProperty("builds")[0].GetString();
                if (built != id) throw new BenchFailure($"hook {round} started build {built}; expected {id}");
                if (received.TryGetValue(id, out var early)) waiter.TrySetResult(early);
                var at = await waiter.Task.WaitAsync(TimeSpan.FromSeconds(30));
                waiters.TryRemove(id, out _);
                if (round > warmup) latencies.Add(Stopwatch.GetElapsedTime(start, at).TotalMilliseconds);
                await Task.Delay(20);
            }
            var cpu = silo.Counters() - cpu0;
            latencies.Sort();
            Console.WriteLine();
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; load average before {string.Join(' ', loadBefore)}, after {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3])}");
            Console.WriteLine($"date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; command: bench/builds.sh hook --agents {agents} --rounds {rounds} --warmup {warmup}");
            Console.WriteLine($"| agents | hooks | p50 | p90 | p99 | max | silo CPU per hook |");
            Console.WriteLine($"|---|---|---|---|---|---|---|");
            Console.WriteLine($"| {agents} | {rounds} | {P(0.50):0.0} ms | {P(0.90):0.0} ms | {P(0.99):0.0} ms | {latencies[^1]:0.0} ms | {cpu.CpuMs / rounds:0.00} ms |");
            Console.WriteLine($"goal p99 < 50 ms: {(P(0.99) < 50 ? "met" : "missed")} (p50 {(P(0.50) < 50 ? "under" : "over")} 50 ms)");
            foreach (var agent in fleet) await agent.DisposeAsync();

            double P(double q) => latencies[Math.Min(latencies.Count - 1, (int)Math.Ceiling(q * latencies.Count) - 1)];
        }
        finally
        {
            dataDir.Delete(recursive: true);
        }
        return 0;
    }

    private static HttpRequestMessage Push(int round)
    {
        var body = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new
        {
            @ref = $"refs/heads/hook-{round}",
            before = "0000000000000000000000000000000000000000",
            after = round.ToString("x40", CultureInfo.InvariantCulture),
            repository = new { full_name = Repo },
            pusher = new { name = "bench" },
        }));
        var request = new HttpRequestMessage(HttpMethod.Post, "/hooks/github") { Content = new ByteArrayContent(body) };
        request.Content.Headers.ContentType = new("application/json");
        request.Headers.Add("X-GitHub-Event", "push");
        request.Headers.Add("X-GitHub-Delivery", Guid.NewGuid().ToString());
        request.Headers.Add("X-Hub-Signature-256", "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), body)));
        return request;
    }
}
