using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Nodes.Bench;

/// <summary>
/// Deploy dispatch: from just before <c>POST /v1/deploys</c> (every agent, one batch of 100%) to the <c>deploy</c> frame
/// read by each simulated agent, which answers a succeeded result at once; each round waits for the deploy to end.
/// </summary>
public static class DeployDispatch
{
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(120);

    public static async Task RunAsync(SiloHost silo, SimulatedFleet fleet, int rounds, Report report, double goalMs)
    {
        var samples = new List<double>();
        var lasts = new List<double>();
        var stored = new List<double>();
        var writesBefore = await StateWrites(silo);
        for (var round = 0; round < rounds; round++)
        {
            var all = fleet.Arm(SimulatedFleet.DeployRound);
            var body = new { manifest_url = "http://127.0.0.1:9/bench/manifest.yml", target = new { all = true }, strategy = new { batch = "100%" } };
            var t0 = Stopwatch.GetTimestamp();
            using var response = await silo.Http.PostAsJsonAsync("/v1/deploys", body);
            var text = await response.Content.ReadAsStringAsync();
            if (!response.IsSuccessStatusCode) throw new BenchFailure($"POST /v1/deploys answered {(int)response.StatusCode}: {text}");
            var id = JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!;
            if (await Task.WhenAny(all, Task.Delay(RoundTimeout)) != all)
            {
                silo.EnsureAlive();
                throw new BenchFailure($"deploy {id}: {fleet.Arrived} of {fleet.Count} simulated agents got the deploy frame within {RoundTimeout.TotalSeconds:0} s");
            }
            var ms = fleet.Arrivals.Select(t => Stopwatch.GetElapsedTime(t0, t).TotalMilliseconds).ToList();
            samples.AddRange(ms);
            lasts.Add(ms.Max());
            await UntilEnded(silo, id);
            stored.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
        }
        var writes = await StateWrites(silo) - writesBefore;
        var last = new Latencies(lasts);
        report.Add("POST /v1/deploys → deploy frame read, every simulated agent", "platform", fleet.Count, rounds, new Latencies(samples),
            $"one batch of 100%; time to the last agent: median {Latencies.Ms(last.P50)} ms, max {Latencies.Ms(last.Max)} ms (goal {goalMs:0} ms)");
        var end = new Latencies(stored);
        report.AddNote("deploy: every node's result stored (deploy ended)", "platform", fleet.Count,
            $"median {Latencies.Ms(end.P50)} ms, max {Latencies.Ms(end.Max)} ms from the POST; {writes / (double)rounds:0} writes of the deploy's state per deploy of {fleet.Count:N0} nodes");
    }

    /// <summary>platform_deploys_state_writes_total from the silo's /metrics.</summary>
    private static async Task<double> StateWrites(SiloHost silo)
    {
        foreach (var line in (await silo.Http.GetStringAsync("/metrics")).Split('\n'))
            if (line.StartsWith("platform_deploys_state_writes_total", StringComparison.Ordinal))
                return double.Parse(line[(line.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture);
        return 0;
    }

    /// <summary>Until every result is stored, so the next round's frames do not meet this round's results.</summary>
    private static async Task UntilEnded(SiloHost silo, string id)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(RoundTimeout.TotalSeconds * Stopwatch.Frequency);
        while (Stopwatch.GetTimestamp() < deadline)
        {
            var deploy = JsonDocument.Parse(await silo.Http.GetStringAsync($"/v1/deploys/{id}")).RootElement;
            if (deploy.GetProperty("status").GetString() != "running") return;
            await Task.Delay(200);
        }
        throw new BenchFailure($"deploy {id} did not end within {RoundTimeout.TotalSeconds:0} s");
    }
}
