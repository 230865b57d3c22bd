using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Dashboard.Bench;
using Platform.Nodes.Bench;

namespace Platform.Builds.Bench;

/// <summary>
/// Queue throughput and fairness: a silo process (embedded SQLite), N simulated build agents connected with no slots, and
/// B builds started repository by repository (every build of the first repository, then every build of the second, …:
/// arrival order as unfair as it gets), each on a branch of its own so that none skips another. Once the queue holds
/// every build's first job, every agent offers its slots at once; an agent finishes each job the moment it gets it (a
/// one-step pipeline, then the step). Measured: jobs dispatched per second from the offer to the last build's end, and
/// how evenly the repositories shared the slots while all of them still had builds waiting.
/// </summary>
internal static class QueueBench
{
    private const int Repositories = 10;

    public static async Task<int> RunAsync(string[] args)
    {
        var agents = BenchArgs.Int(args, "--agents", 1000);
        var slots = BenchArgs.Int(args, "--slots", 2);
        var builds = BenchArgs.Int(args, "--builds", 10000);
        var perRepository = builds / Repositories;
        if (perRepository * Repositories != builds) throw new BenchFailure($"--builds {builds} is not a multiple of {Repositories}");

        var loadBefore = File.ReadAllText("/proc/loadavg").Split(' ')[..3];
        var dataDir = Directory.CreateTempSubdirectory("queue-bench-");
        try
        {
            await using var silo = await SiloHost.StartAsync(BenchArgs.SiloDll, dataDir.FullName);
            Console.WriteLine($"silo pid {silo.Pid} at {silo.Url}");

            // Every job frame an agent receives, in order: which repository, and whether it is a build's first job.
            var dispatched = new ConcurrentQueue<(long At, int Repository, bool Pipeline)>();
            var ended = 0;
            var allEnded = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var fleet = new List<BuildAgent>(agents);
            var ramp = Stopwatch.StartNew();
            for (var i = 0; i < agents; i += 16)
            {
                var batch = Enumerable.Range(i, Math.Min(16, agents - i)).Select(async n =>
                {
                    var agent = new BuildAgent($"queue-agent-{n:0000}", 0)
                    {
                        JobReceived = job => dispatched.Enqueue((Stopwatch.GetTimestamp(), RepositoryOf(job.BuildId), job.Step is null)),
                        StepEnded = _ =>
                        {
                            if (Interlocked.Increment(ref ended) == builds) allEnded.TrySetResult();
                        },
                    };
                    await agent.ConnectAsync(silo.Url);
                    return agent;
                });
                fleet.AddRange(await Task.WhenAll(batch));
            }
            Console.WriteLine($"{agents} agents connected with no slots in {ramp.Elapsed.TotalSeconds:0.0} s");

            for (var r = 0; r < Repositories; r++)
            {
                using var put = await silo.Http.PutAsJsonAsync($"/v1/repos/{Repository(r)}", new { cloneUrl = $"file:///nonexistent/queue-{r}.git" });
                if (!put.IsSuccessStatusCode) throw new BenchFailure($"PUT /v1/repos/{Repository(r)} answered {(int)put.StatusCode}");
            }
            var queueCpu0 = silo.Counters();
            var queueing = Stopwatch.StartNew();
            await StartBuildsAsync(silo, perRepository, inFlight: 16);
            var startedIn = queueing.Elapsed;
            await WaitWaitingAsync(silo, builds);
            var queuedIn = queueing.Elapsed;
            var queueCpu = silo.Counters() - queueCpu0;
            Console.WriteLine($"{builds} builds started in {startedIn.TotalSeconds:0.0} s, their first jobs all waiting after {queuedIn.TotalSeconds:0.0} s");

            var cpu0 = silo.Counters();
            var start = Stopwatch.GetTimestamp();
            await Task.WhenAll(fleet.Select(a => a.OfferSlotsAsync(slots)));
            if (await Task.WhenAny(allEnded.Task, Task.Delay(TimeSpan.FromMinutes(15))) != allEnded.Task)
                throw new BenchFailure($"only {Volatile.Read(ref ended)} of {builds} builds ended within 15 minutes of the offer");
            var took = Stopwatch.GetElapsedTime(start);
            var cpu = silo.Counters() - cpu0;

            var order = dispatched.ToArray();
            Array.Sort(order, (a, b) => a.At.CompareTo(b.At));
            var jobs = order.Length;
            var fairness = Fairness([.. order.Where(d => d.Pipeline).Select(d => d.Repository)], perRepository);

            Console.WriteLine();
            Console.WriteLine($"machine: {Environment.ProcessorCount} cores; load average before {string.Join(' ', loadBefore)}, after {string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3])}");
            Console.WriteLine($"date (UTC): {DateTime.UtcNow:yyyy-MM-dd HH:mm}; command: bench/builds.sh queue --agents {agents} --slots {slots} --builds {builds}");
            Console.WriteLine("| agents × slots | builds (10 repositories) | jobs dispatched | offer → last build ended | jobs/s | silo CPU per job | first job of every build dispatched after | queueing: builds/s, silo CPU per build |");
            Console.WriteLine("|---|---|---|---|---|---|---|---|");
            var firstJobsDone = order.Where(d => d.Pipeline).Max(d => d.At);
            Console.WriteLine($"| {agents} × {slots} | {builds} | {jobs} | {took.TotalSeconds:0.00} s | {jobs / took.TotalSeconds:0} | {cpu.CpuMs / jobs:0.00} ms | "
                + $"{Stopwatch.GetElapsedTime(start, firstJobsDone).TotalSeconds:0.00} s | {builds / startedIn.TotalSeconds:0} builds/s, {queueCpu.CpuMs / builds:0.00} ms |");
            Console.WriteLine();
            Console.WriteLine("Fairness over the first jobs of the builds, in dispatch order, while every repository still had builds waiting:");
            Console.WriteLine("| window of dispatches | per repository: fewest – most (fair share) | Jain's index |");
            Console.WriteLine("|---|---|---|");
            foreach (var (window, fewest, most, share, jain) in fairness)
                Console.WriteLine($"| {window} | {fewest} – {most} ({share}) | {jain:0.0000} |");
            foreach (var agent in fleet) await agent.DisposeAsync();
        }
        finally
        {
            dataDir.Delete(recursive: true);
        }
        return 0;
    }

    private static string Repository(int r) => $"bench/queue-{r}";

    private static int RepositoryOf(string buildId) => buildId["bench/queue-".Length] - '0';

    /// <summary>Starts <paramref name="perRepository"/> builds of each repository, repository after repository.</summary>
    private static async Task StartBuildsAsync(SiloHost silo, int perRepository, int inFlight)
    {
        for (var r = 0; r < Repositories; r++)
        {
            var next = -1;
            var workers = Enumerable.Range(0, inFlight).Select(async _ =>
            {
                while (Interlocked.Increment(ref next) is var i && i < perRepository)
                {
                    var body = new { repo = Repository(r), branch = $"b-{i}", commit = i.ToString("x40", System.Globalization.CultureInfo.InvariantCulture) };
                    using var response = await silo.Http.PostAsJsonAsync("/v1/builds", body);
                    if (!response.IsSuccessStatusCode)
                        throw new BenchFailure($"POST /v1/builds for {body.repo} {body.branch} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
                }
            });
            await Task.WhenAll(workers);
        }
    }

    private static async Task WaitWaitingAsync(SiloHost silo, int count)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var queue = await silo.Http.GetFromJsonAsync<JsonElement>("/v1/queue");
            var waiting = queue.GetProperty("waiting").GetArrayLength();
            if (waiting == count) return;
            if (deadline.Elapsed > TimeSpan.FromMinutes(10)) throw new BenchFailure($"the queue holds {waiting} jobs, not {count}, 10 minutes after the builds started");
            await Task.Delay(200);
        }
    }

    /// <summary>
    /// How the dispatches of the builds' first jobs shared out among the repositories in windows of growing size from
    /// the start, while every repository still had one waiting (each has <paramref name="perRepository"/>): the fewest
    /// and most any repository got, the fair share, and Jain's index (1 when equal, 1/n when one took all).
    /// </summary>
    private static List<(int Window, int Fewest, int Most, int Share, double Jain)> Fairness(int[] repositories, int perRepository)
    {
        var rows = new List<(int, int, int, int, double)>();
        foreach (var window in new[] { 100, 1_000, perRepository * Repositories / 2, perRepository * Repositories * 9 / 10 }.Distinct().Order())
        {
            if (window > repositories.Length || window < Repositories) continue;
            var counts = new int[Repositories];
            foreach (var r in repositories.AsSpan(0, window)) counts[r]++;
            double sum = counts.Sum(), squares = counts.Sum(c => (double)c * c);
            rows.Add((window, counts.Min(), counts.Max(), window / Repositories, sum * sum / (Repositories * squares)));
        }
        return rows;
    }
}
