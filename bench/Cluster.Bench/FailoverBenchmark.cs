using System.Diagnostics;
using System.Globalization;
using System.Text;
using Platform.Runtime.Membership;

namespace Platform.Cluster.Bench;

/// <summary>One kill: times from the SIGKILL, in milliseconds.</summary>
public sealed record KillRound(int Round, double DeadInDriverView, double DeadInPeerView, double FirstSuccessfulCall, double FirstSuspicion,
    string DeclaredBy, string AnsweredBy, int FailedAttempts, string Errors);

/// <summary>
/// Failure detection with the default <see cref="MembershipOptions"/>: three silo processes (this driver, a stable
/// <c>serve</c> child, and a victim child started anew for each round). Each round finds a grain owned by the victim,
/// SIGKILLs the victim, and measures the time to Dead in the driver's view (ViewApplied, and a 10 ms poll of
/// CurrentView as a cross-check), to Dead in the stable child's view, and to the first successful call on the grain,
/// which is retried in a loop (each attempt with a 500 ms timeout, 5 ms pause after a failure).
/// </summary>
public static class FailoverBenchmark
{
    private static readonly TimeSpan AttemptTimeout = TimeSpan.FromMilliseconds(500);

    public static async Task<List<KillRound>> RunAsync(BenchOptions o, Harness h)
    {
        var d = new MembershipOptions();
        Console.WriteLine($"== failover: {o.Kills} kills; default MembershipOptions: probe every {d.ProbeInterval.TotalSeconds:0.#} s (timeout {d.ProbeTimeout.TotalSeconds:0.#} s), " +
                          $"suspect after {d.MissedProbesLimit} missed probes, {d.VotesForDeathDeclaration} votes to declare Dead, table refresh {d.TableRefreshInterval.TotalSeconds:0.#} s, " +
                          $"I-am-alive every {d.IAmAliveInterval.TotalSeconds:0.#} s (stale after {d.IAmAliveStaleAfter.TotalSeconds:0.#} s)");
        var stable = await h.SpawnAsync("stable");
        await h.WaitForActiveAsync(2, [stable], TimeSpan.FromSeconds(60));
        Console.WriteLine($"cluster {h.ClusterId}: driver {h.Driver.Self} (pid {Environment.ProcessId}), stable child {stable.Address} (pid {stable.Pid}); logs in {h.LogDir}");

        var rounds = new List<KillRound>();
        for (var round = 1; round <= o.Kills; round++)
        {
            var victim = await h.SpawnAsync($"victim{round}");
            await h.WaitForActiveAsync(3, [stable, victim], TimeSpan.FromSeconds(60));
            var key = (await h.KeysOnAsync(victim.Pid, 1, $"round{round}-"))[0];
            var grain = h.Driver.Factory.GetGrain<IEchoGrain>(key);
            // Steady state before the kill: the probers have had a few rounds with the victim answering.
            await Task.Delay(o.Settle);
            if (await grain.Pid() != victim.Pid) throw new InvalidOperationException($"grain {key} moved off the victim before the kill");

            var r = await KillOnceAsync(round, h, stable, victim, grain);
            rounds.Add(r);
            Console.WriteLine($"  kill {round,2}: Dead in driver view {r.DeadInDriverView,7:0} ms, in stable child's view {r.DeadInPeerView,7:0} ms, first successful call {r.FirstSuccessfulCall,7:0} ms " +
                              $"(answered by {r.AnsweredBy}; {r.FailedAttempts} failed attempts: {r.Errors}); first suspicion at {r.FirstSuspicion:0} ms, declared by {r.DeclaredBy}");
            await victim.DisposeAsync();
            await h.WaitForActiveAsync(2, [stable], TimeSpan.FromSeconds(60));
        }
        return rounds;
    }

    private static async Task<KillRound> KillOnceAsync(int round, Harness h, ChildSilo stable, ChildSilo victim, IEchoGrain grain)
    {
        var target = victim.Address;
        long deadByEvent = 0, deadByPoll = 0;
        void OnView(ClusterView v)
        {
            if (v.StatusOf(target) == SiloStatus.Dead) Interlocked.CompareExchange(ref deadByEvent, Stopwatch.GetTimestamp(), 0);
        }
        h.Driver.Cluster.ViewApplied += OnView;
        using var stopPolling = new CancellationTokenSource();
        var poller = Task.Run(async () =>
        {
            while (!stopPolling.IsCancellationRequested)
            {
                if (h.Driver.View.StatusOf(target) == SiloStatus.Dead)
                {
                    deadByPoll = Stopwatch.GetTimestamp();
                    return;
                }
                await Task.Delay(10);
            }
        });

        var killedAt = Stopwatch.GetTimestamp();
        victim.Kill();

        var failed = 0;
        var errors = new SortedDictionary<string, int>();
        long answeredAt;
        int answeredPid;
        while (true)
        {
            try
            {
                answeredPid = await grain.Pid().WaitAsync(AttemptTimeout);
                answeredAt = Stopwatch.GetTimestamp();
                break;
            }
            catch (Exception e)
            {
                failed++;
                var name = e.GetType().Name;
                errors[name] = errors.GetValueOrDefault(name) + 1;
                if (Stopwatch.GetElapsedTime(killedAt) > TimeSpan.FromSeconds(120))
                    throw new TimeoutException($"round {round}: no successful call within 120 s of the kill; last error {e.GetType().Name}: {e.Message}; logs in {h.LogDir}");
                await Task.Delay(5);
            }
        }

        await victim.WaitForExitAsync();
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while ((Volatile.Read(ref deadByPoll) == 0 || stable.FirstSawDead(target) is null) && DateTime.UtcNow < deadline) await Task.Delay(10);
        stopPolling.Cancel();
        await poller;
        h.Driver.Cluster.ViewApplied -= OnView;

        double Ms(long? ts) => ts is { } t && t != 0 ? (t - killedAt) * 1000.0 / Stopwatch.Frequency : double.NaN;
        var driverDead = deadByEvent != 0 ? deadByEvent : deadByPoll;
        var answeredBy = answeredPid == Environment.ProcessId ? "driver" : answeredPid == stable.Pid ? "stable child" : $"pid {answeredPid}";
        var suspicions = h.LogLines(target, "Suspecting").Where(l => l.Timestamp > killedAt).ToList();
        var declared = h.LogLines(target, "Declared").Where(l => l.Timestamp > killedAt).ToList();
        return new KillRound(round, Ms(driverDead), Ms(stable.FirstSawDead(target)), Ms(answeredAt),
            suspicions.Count == 0 ? double.NaN : Ms(suspicions.Min(s => s.Timestamp)),
            declared.Count == 0 ? "?" : declared.MinBy(x => x.Timestamp).File == "driver" ? "driver" : "stable child",
            answeredBy, failed, errors.Count == 0 ? "none" : string.Join(", ", errors.Select(e => $"{e.Value}× {e.Key}")));
    }

    public static string Summary(IReadOnlyList<KillRound> rounds)
    {
        var sb = new StringBuilder();
        sb.AppendLine($"| measure (over {rounds.Count} kills, ms from SIGKILL) | median | max | min |");
        sb.AppendLine("|---|---:|---:|---:|");
        void Line(string name, Func<KillRound, double> f)
        {
            var v = rounds.Select(f).Where(x => !double.IsNaN(x)).Order().ToList();
            if (v.Count == 0) { sb.AppendLine($"| {name} | - | - | - |"); return; }
            sb.AppendLine($"| {name} | {Median(v).ToString("0", CultureInfo.InvariantCulture)} | {v[^1].ToString("0", CultureInfo.InvariantCulture)} | {v[0].ToString("0", CultureInfo.InvariantCulture)} |");
        }
        Line("**victim Dead in the driver's view** (goal: within 10 s)", r => r.DeadInDriverView);
        Line("**first successful call on the moved grain** (from the driver)", r => r.FirstSuccessfulCall);
        Line("victim Dead in the stable child's view", r => r.DeadInPeerView);
        Line("first suspicion written (either survivor)", r => r.FirstSuspicion);
        return sb.ToString();
    }

    public static string Rounds(IReadOnlyList<KillRound> rounds)
    {
        var sb = new StringBuilder();
        sb.AppendLine("| kill | Dead in driver's view ms | Dead in stable child's view ms | first successful call ms | first suspicion ms | declared Dead by | moved grain answered by | failed attempts |");
        sb.AppendLine("|---:|---:|---:|---:|---:|---|---|---|");
        foreach (var r in rounds)
            sb.AppendLine($"| {r.Round} | {r.DeadInDriverView:0} | {r.DeadInPeerView:0} | {r.FirstSuccessfulCall:0} | {r.FirstSuspicion:0} | {r.DeclaredBy} | {r.AnsweredBy} | {r.FailedAttempts} ({r.Errors}) |");
        return sb.ToString();
    }

    public static double Median(IReadOnlyList<double> sorted) =>
        sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}
