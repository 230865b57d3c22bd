using System.Diagnostics;
using System.Text.Json;

namespace Platform.Nodes.Bench;

/// <summary>
/// The silo alone with simulated agents (<see cref="SimulatedFleet"/>): (a) user event fan-out and (d) a query to
/// every agent; (e), memory per agent, is read by Program between the two.
/// </summary>
public static class SimulatedRuns
{
    private static readonly TimeSpan RoundTimeout = TimeSpan.FromSeconds(60);

    /// <summary>(a) From just before <c>POST /v1/events/{name}</c> to the user frame read by each agent (it then answers applied).</summary>
    public static async Task EventsAsync(SiloHost silo, SimulatedFleet fleet, int rounds, Report report, double goalMs) => await EventsAsync(silo, fleet, rounds, report, goalMs, "sim");

    /// <summary>Events fanned out and not recorded, so that the figures after them are of compiled code.</summary>
    public static Task WarmUpAsync(SiloHost silo, SimulatedFleet fleet, int rounds) => EventsAsync(silo, fleet, rounds, null, 0, "warm");

    private static async Task EventsAsync(SiloHost silo, SimulatedFleet fleet, int rounds, Report? report, double goalMs, string prefix)
    {
        var samples = new List<double>();
        var lasts = new List<double>();
        var driverPauses = new List<double>();
        var siloGc = new List<double>();
        var lost = 0;
        var cpu = 0.0;
        var driverCpu = TimeSpan.Zero;
        for (var round = 0; round < rounds; round++)
        {
            var name = $"{prefix}-{fleet.Count}-{round}";
            var all = fleet.Arm(name);
            using var body = new ByteArrayContent("bench"u8.ToArray());
            // Before the counters: the collection that makes room is not the round's.
            using var quiet = fleet.QuietDriverGc ? NoDriverGc.Start() : default;
            var before = silo.Counters();
            var driverBefore = Process.GetCurrentProcess().TotalProcessorTime;
            var paused = GC.GetTotalPauseDuration();
            var gcBefore = silo.GcCpuMs();
            var t0 = Stopwatch.GetTimestamp();
            using var response = await silo.Http.PostAsync($"/v1/events/{name}?coalesce=false", body);
            if (!response.IsSuccessStatusCode) throw new BenchFailure($"POST /v1/events/{name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            await Wait(all, fleet, silo, name);
            driverPauses.Add((GC.GetTotalPauseDuration() - paused).TotalMilliseconds);
            siloGc.Add(silo.GcCpuMs() - gcBefore);
            // Includes the heartbeats of the same moments: at 10,000 agents a round of pings is in every event's figure.
            cpu += (silo.Counters() - before).CpuMs;
            driverCpu += Process.GetCurrentProcess().TotalProcessorTime - driverBefore;
            lost = Math.Max(lost, fleet.Count - fleet.Arrived);
            var ms = fleet.Arrivals.Where(t => t != 0).Select(t => Stopwatch.GetElapsedTime(t0, t).TotalMilliseconds).ToList();
            if (ms.Count == 0)
                throw new BenchFailure($"{name}: no simulated agent got it ({fleet.ClosedCount} of {fleet.Count} sockets closed); the silo's last lines:\n{silo.Tail}");
            samples.AddRange(ms);
            lasts.Add(ms.Max());
        }
        if (report is null) return;
        Console.WriteLine($"  rounds, time to the last agent (ms): {string.Join(" ", lasts.Select(l => l.ToString("0")))}");
        // The driver's own collections pause its reads: a round's figure includes them.
        Console.WriteLine($"  rounds, the driver's GC pauses (ms): {string.Join(" ", driverPauses.Select(l => l.ToString("0")))}");
        Console.WriteLine($"  rounds, the silo's GC threads' CPU (ms, 10 ms ticks): {string.Join(" ", siloGc.Select(l => l.ToString("0")))}");
        var last = new Latencies(lasts);
        report.Add("user event → frame read, every simulated agent", "platform", fleet.Count, rounds, new Latencies(samples),
            $"time to the last agent: median {Latencies.Ms(last.P50)} ms, max {Latencies.Ms(last.Max)} ms (goal {goalMs:0} ms)" +
            $"; silo CPU from the POST to the last agent {cpu / rounds:0} ms per event, this driver's (the agents' side) {driverCpu.TotalMilliseconds / rounds:0} ms" +
            (lost > 0 ? $"; {lost} agents had been failed by the silo (heartbeat) and did not take part" : ""));
    }

    /// <summary>(d) <c>POST /v1/queries/{name}</c>: time to the query frame on each agent, and to the last response line and the done line of the answer.</summary>
    public static async Task QueryAsync(SiloHost silo, SimulatedFleet fleet, int rounds, Report report)
    {
        var toResponses = new List<double>();
        var toDone = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var name = $"simq-{fleet.Count}-{round}";
            var open = fleet.Count - fleet.ClosedCount;
            _ = fleet.Arm(name);
            using var body = new ByteArrayContent([]);
            using var quiet = fleet.QuietDriverGc ? NoDriverGc.Start() : default;
            var t0 = Stopwatch.GetTimestamp();
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/v1/queries/{name}?timeout=15s") { Content = body };
            using var response = await silo.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            if (!response.IsSuccessStatusCode) throw new BenchFailure($"POST /v1/queries/{name} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync());
            int responses = 0, acks = 0;
            double lastResponse = double.NaN;
            while (await reader.ReadLineAsync() is { } line)
            {
                if (line.Length == 0) continue;
                using var json = JsonDocument.Parse(line);
                var type = json.RootElement.GetProperty("type").GetString();
                if (type == "ack") acks++;
                else if (type == "response" && ++responses == open) lastResponse = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                else if (type == "done") break;
            }
            toDone.Add(Stopwatch.GetElapsedTime(t0).TotalMilliseconds);
            if (responses < open) throw new BenchFailure($"query {name}: {responses} responses and {acks} acks of {open} agents connected");
            toResponses.Add(lastResponse);
        }
        report.Add("query → all responses streamed", "platform", fleet.Count, rounds, new Latencies(toResponses),
            $"to the done line (the query's timeout ends it unless every node answered): median {Latencies.Ms(new Latencies(toDone).P50)} ms");
    }

    /// <summary>Until every agent got the event, or every agent still connected did (a simulated agent the silo failed does not reconnect).</summary>
    private static async Task Wait(Task all, SimulatedFleet fleet, SiloHost silo, string name)
    {
        var deadline = Stopwatch.GetTimestamp() + (long)(RoundTimeout.TotalSeconds * Stopwatch.Frequency);
        while (!all.IsCompleted && Stopwatch.GetTimestamp() < deadline)
        {
            if (fleet.Arrived + fleet.ClosedWithoutArrival >= fleet.Count) return;
            await Task.WhenAny(all, Task.Delay(100));
        }
        if (!all.IsCompleted)
        {
            silo.EnsureAlive();
            throw new BenchFailure($"{name}: {fleet.Arrived} of {fleet.Count} simulated agents got it within {RoundTimeout.TotalSeconds:0} s ({fleet.ClosedCount} sockets closed; longest gap between this driver's ping rounds {fleet.LongestPingGapMs} ms)");
        }
    }
}
