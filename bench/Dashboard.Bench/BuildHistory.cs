using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Nodes.Bench;

namespace Platform.Dashboard.Bench;

/// <summary>
/// Fills the silo with finished builds through the public API: repositories registered with PUT /v1/repos, each build
/// started with POST /v1/builds and run to its end by a <see cref="BuildAgent"/>. A repository lists its latest 500
/// builds (docs/builds.md, "Paging"), so the builds are spread over enough repositories to keep every one listed.
/// Each of <c>inFlight</c> workers has a branch of its own and waits for its build's end before it starts the next:
/// a newer build of the same branch would skip the older one, and the queue stays as short as a busy fleet's.
/// </summary>
public static class BuildHistory
{
    public const int PerRepository = 500;

    public sealed record Result(int Builds, int Repositories, TimeSpan Took, double SiloCpuMs);

    public static async Task<Result> CreateAsync(SiloHost silo, BuildAgent agent, int count, int inFlight, Action<string> progress)
    {
        var repositories = (count + PerRepository - 1) / PerRepository;
        for (var r = 0; r < repositories; r++)
        {
            using var put = await silo.Http.PutAsJsonAsync($"/v1/repos/{RepositoryName(r)}", new { cloneUrl = $"file:///nonexistent/bench-{r}.git" });
            if (!put.IsSuccessStatusCode) throw new BenchFailure($"PUT /v1/repos/{RepositoryName(r)} answered {(int)put.StatusCode}: {await put.Content.ReadAsStringAsync()}");
        }
        var cpu0 = silo.Counters();
        var started = Stopwatch.GetTimestamp();
        var next = -1;
        var done = 0;
        var workers = Enumerable.Range(0, inFlight).Select(async worker =>
        {
            while (true)
            {
                var i = Interlocked.Increment(ref next);
                if (i >= count) return;
                var id = await StartAsync(silo, RepositoryName(i % repositories), $"branch-{worker}", i);
                var finished = agent.Finished(id);
                if (await Task.WhenAny(finished, Task.Delay(TimeSpan.FromSeconds(60))) != finished)
                    throw new BenchFailure($"build {id} did not finish within 60 s");
                agent.Forget(id);
                var n = Interlocked.Increment(ref done);
                if (n % 1000 == 0) progress($"{n} builds finished in {Stopwatch.GetElapsedTime(started).TotalSeconds:0} s");
            }
        });
        await Task.WhenAll(workers);
        return new Result(count, repositories, Stopwatch.GetElapsedTime(started), (silo.Counters() - cpu0).CpuMs);
    }

    public static string RepositoryName(int r) => $"bench/app-{r:00}";

    private static async Task<string> StartAsync(SiloHost silo, string repository, string branch, int i)
    {
        var commit = i.ToString("x40", System.Globalization.CultureInfo.InvariantCulture);
        while (true)
        {
            using var response = await silo.Http.PostAsJsonAsync("/v1/builds", new { repo = repository, branch, commit });
            if (response.StatusCode == HttpStatusCode.TooManyRequests)
            {
                await Task.Delay(response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1));
                continue;
            }
            var text = await response.Content.ReadAsStringAsync();
            if (response.StatusCode != HttpStatusCode.Created) throw new BenchFailure($"POST /v1/builds ({repository} {branch}) answered {(int)response.StatusCode}: {text}");
            using var json = JsonDocument.Parse(text);
            return json.RootElement.GetProperty("id").GetString() ?? throw new BenchFailure($"POST /v1/builds answered no id: {text}");
        }
    }
}
