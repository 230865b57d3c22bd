using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests;

/// <summary>
/// Three real silo processes on one PostgreSQL (a database per test, so cluster ids never clash), with
/// a client in the test writing to ledger grains spread over all of them by placement.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterProcessTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static readonly int[] All = [0, 1, 2];
    private static readonly TimeSpan FormTimeout = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Killed_silo_is_declared_dead_within_10s_and_no_acknowledged_write_is_lost()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Killed_silo_is_declared_dead_within_10s_and_no_acknowledged_write_is_lost));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, FormTimeout);

        var victim = Random.Shared.Next(3);
        int[] survivors = [.. All.Where(i => i != victim)];
        var victimAddress = (await cluster.StatusAsync(victim)).SelfAddress;
        output.WriteLine($"victim: {cluster.Name(victim)} {victimAddress}");

        // Failures while the dead silo is not yet declared are allowed: a short request timeout keeps writers moving.
        await using var load = new LedgerLoad(Enumerable.Range(0, 60).Select(i => $"kill{i}"), cluster.HttpPorts,
            requestTimeout: TimeSpan.FromSeconds(5), pauseBetweenWrites: TimeSpan.FromMilliseconds(10));
        var loadStarted = Stopwatch.GetTimestamp();
        load.Start();
        // Every ledger grain has answered once, so they are spread over all three silos.
        await load.WaitUntilEveryKeyAcknowledgedSinceAsync(loadStarted, TimeSpan.FromSeconds(30));
        Assert.True(load.Failures.Count == 0, $"writes failed before any silo was killed: {load.DescribeFailures()}");
        var victimHeld = (await cluster.StatusAsync(victim)).LedgerActivations;
        Assert.True(victimHeld > 0, "the victim hosts no ledger grain: the writes are not spread over all three silos");
        var ackedBeforeKill = load.AcknowledgedCount;

        // No new request goes to the victim's HTTP port; the ones in flight there fail (not acknowledged).
        load.SetTargets(survivors);
        var killedAt = Stopwatch.GetTimestamp();
        await cluster[victim].KillAsync();

        await cluster.WaitForAsync(survivors, (_, s) => s.StatusOf(victimAddress) == "Dead", TimeSpan.FromSeconds(30),
            $"both survivors see {victimAddress} Dead");
        var detection = Stopwatch.GetElapsedTime(killedAt);
        var deathSeen = Stopwatch.GetTimestamp();
        output.WriteLine($"kill -9 -> Dead on both survivors: {detection.TotalMilliseconds:0} ms");
        Assert.True(detection < TimeSpan.FromSeconds(10), $"the killed silo was declared Dead after {detection.TotalSeconds:0.0} s (limit 10 s)");

        // Each survivor's membership history tells the story: three joins, the survivors' suspicions, the death.
        var survivorAddresses = new HashSet<string>();
        foreach (var s in survivors) survivorAddresses.Add((await cluster.StatusAsync(s)).SelfAddress);
        foreach (var s in survivors)
        {
            var history = JsonDocument.Parse(await cluster.Client(s).GetStringAsync("/v1/cluster")).RootElement.GetProperty("history").EnumerateArray()
                .Select(c => (Silo: c.GetProperty("silo").GetString(), Change: c.GetProperty("change").GetString(), By: c.GetProperty("by").GetString())).ToList();
            Assert.Equal(3, history.Where(c => c.Change == "joined").Select(c => c.Silo).Distinct().Count());
            Assert.Contains(history, c => c.Silo == victimAddress && c.Change == "suspected" && survivorAddresses.Contains(c.By!));
            Assert.Contains(history, c => c.Silo == victimAddress && c.Change == "dead" && survivorAddresses.Contains(c.By!));
        }

        // Every grain answers again (those of the dead silo from the survivors, reactivated from storage).
        await load.WaitUntilEveryKeyAcknowledgedSinceAsync(deathSeen, TimeSpan.FromSeconds(30));
        var everyKeyAnswered = Stopwatch.GetElapsedTime(killedAt);
        await load.StopAsync();

        var everyKeyAnsweredAfterKill = Stopwatch.GetElapsedTime(killedAt,
            load.Keys.Max(k => load.Acknowledged(k).Where(a => a.StartedAt >= killedAt).Min(a => a.CompletedAt)));
        output.WriteLine($"victim held {victimHeld} of 60 ledger grains; {ackedBeforeKill} writes acknowledged before the kill");
        output.WriteLine($"kill -9 -> every key had a successful write started after the kill: {everyKeyAnsweredAfterKill.TotalMilliseconds:0} ms");
        output.WriteLine($"kill -9 -> every key had a successful write started after Dead was seen: {everyKeyAnswered.TotalMilliseconds:0} ms");
        output.WriteLine(load.DescribeFailures(10));

        await cluster.WaitForActiveAsync(2, TimeSpan.FromSeconds(5), survivors);
        var verified = await AssertEveryAcknowledgedWriteIsPresentAsync(load, cluster, survivors);
        output.WriteLine($"{verified} acknowledged writes over {load.Keys.Count} keys verified ({load.Attempts} attempted)");
        cluster.Passed = true;
    }

    [Fact]
    public async Task Graceful_stop_hands_grains_off_with_zero_failed_calls_and_a_restarted_silo_rejoins()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Graceful_stop_hands_grains_off_with_zero_failed_calls_and_a_restarted_silo_rejoins));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, FormTimeout);
        const int Leaving = 2;
        int[] staying = [0, 1];
        var oldAddress = (await cluster.StatusAsync(Leaving)).SelfAddress;

        // Clients talk to the silos that stay up; the grains are spread over all three.
        await using var load = new LedgerLoad(Enumerable.Range(0, 60).Select(i => $"stop{i}"), cluster.HttpPorts,
            requestTimeout: TimeSpan.FromSeconds(30), pauseBetweenWrites: TimeSpan.FromMilliseconds(10));
        load.SetTargets(staying);
        var loadStarted = Stopwatch.GetTimestamp();
        load.Start();
        // Every ledger grain has answered once, so the leaving silo hosts its share of them.
        await load.WaitUntilEveryKeyAcknowledgedSinceAsync(loadStarted, TimeSpan.FromSeconds(30));
        await cluster.WaitForAsync([Leaving], (_, s) => s.LedgerActivations > 0, TimeSpan.FromSeconds(10), $"{cluster.Name(Leaving)} hosts ledger grains");
        var held = (await cluster.StatusAsync(Leaving)).LedgerActivations;

        var stopping = Stopwatch.StartNew();
        var exit = await cluster[Leaving].TerminateAsync(TimeSpan.FromSeconds(40));
        var stopTook = stopping.Elapsed;
        Assert.Equal(0, exit);
        Assert.True(load.Failures.Count == 0, $"calls failed while {cluster.Name(Leaving)} stopped gracefully: {load.DescribeFailures()}");

        await cluster.WaitForAsync(staying, (_, s) => s.ActiveCount == 2 && s.StatusOf(oldAddress) is null or "Dead", TimeSpan.FromSeconds(10),
            $"the stayers see 2 Active silos and {oldAddress} Dead or gone");
        await load.WaitUntilEveryKeyAcknowledgedSinceAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(20));
        Assert.True(load.Failures.Count == 0, $"calls failed after {cluster.Name(Leaving)} stopped gracefully: {load.DescribeFailures()}");

        // Restart on the same silo port and data directory: a new incarnation joins.
        await cluster.StartAsync(Leaving);
        var rejoin = await cluster.WaitForAsync(All, (_, s) => s.ActiveCount == 3 && s.StatusOf(oldAddress) is null or "Dead", FormTimeout,
            $"every silo sees 3 Active silos and the old incarnation {oldAddress} Dead or gone");
        var newAddress = (await cluster.StatusAsync(Leaving)).SelfAddress;
        Assert.NotEqual(oldAddress, newAddress);
        load.SetTargets(All);
        var takeBack = await cluster.WaitForAsync([Leaving], (_, s) => s.LedgerActivations > 0, TimeSpan.FromSeconds(20),
            $"the restarted {cluster.Name(Leaving)} hosts ledger grains again");
        await load.WaitUntilEveryKeyAcknowledgedSinceAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(20));
        // A second full round of writes with the restarted silo serving its grains again.
        await load.WaitUntilEveryKeyAcknowledgedSinceAsync(Stopwatch.GetTimestamp(), TimeSpan.FromSeconds(20));
        await load.StopAsync();
        var retaken = (await cluster.StatusAsync(Leaving)).LedgerActivations;

        output.WriteLine($"{cluster.Name(Leaving)} held {held} of 60 ledger grains; SIGTERM -> exit 0 in {stopTook.TotalMilliseconds:0} ms");
        output.WriteLine($"restart -> 3 Active everywhere in {rejoin.TotalMilliseconds:0} ms (after ready); took grains back in {takeBack.TotalMilliseconds:0} ms; now holds {retaken}");
        Assert.True(load.Failures.Count == 0, $"calls failed: {load.DescribeFailures()}");
        var verified = await AssertEveryAcknowledgedWriteIsPresentAsync(load, cluster, All);
        output.WriteLine($"{verified} acknowledged writes over {load.Keys.Count} keys verified, 0 failed calls");
        cluster.Passed = true;
    }

    [Fact]
    public async Task Any_silo_serves_any_grain()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Any_silo_serves_any_grain));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, FormTimeout);

        var keys = Enumerable.Range(0, 30).Select(i => $"any{i}").ToList();
        var expected = keys.ToDictionary(k => k, k => new Dictionary<string, long>());
        await Task.WhenAll(keys.Select(async (key, i) =>
        {
            for (var e = 0; e < 3; e++)
            {
                using var r = await cluster.Client(0).PutAsync($"/test/ledger/{key}/x{e}/{i * 10 + e}", null);
                Assert.True(r.StatusCode == HttpStatusCode.OK, $"PUT {key}/x{e} via silo0: {(int)r.StatusCode} {await r.Content.ReadAsStringAsync()}");
                lock (expected) expected[key][$"x{e}"] = i * 10 + e;
            }
        }));

        foreach (var reader in new[] { 1, 2 })
            foreach (var key in keys)
            {
                var entries = await cluster.Client(reader).GetFromJsonAsync<Dictionary<string, long>>($"/test/ledger/{key}/");
                Assert.Equal(expected[key], entries);
            }

        var statuses = await Task.WhenAll(All.Select(cluster.StatusAsync));
        output.WriteLine($"ledger activations per silo: {string.Join(", ", statuses.Select((s, i) => $"{cluster.Name(i)}={s.LedgerActivations}"))}");
        Assert.Equal(keys.Count, statuses.Sum(s => s.LedgerActivations));
        cluster.Passed = true;
    }

    [Fact]
    public async Task Silo_port_already_taken_exits_non_zero_with_one_stderr_line_naming_the_silo_to_silo_port()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Silo_port_already_taken_exits_non_zero_with_one_stderr_line_naming_the_silo_to_silo_port));
        using var dir = new TempDir();
        using var taken = new TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var port = ((IPEndPoint)taken.LocalEndpoint).Port;

        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync(
            "--urls", $"http://127.0.0.1:{SiloProcess.FreePort()}", "--data-dir", dir.Path,
            "--storage", "postgres", "--postgres", connection, "--cluster-id", "taken", "--silo-port", port.ToString(System.Globalization.CultureInfo.InvariantCulture));

        Assert.NotEqual(0, code);
        var line = Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("silo-to-silo", line);
        Assert.Contains($"127.0.0.1:{port}", line);
        Assert.Contains("address already in use", line, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>Reads each key from one of <paramref name="readers"/> and checks every acknowledged write is there with its value.</summary>
    private static async Task<int> AssertEveryAcknowledgedWriteIsPresentAsync(LedgerLoad load, SiloClusterProcesses cluster, int[] readers)
    {
        var problems = new List<string>();
        var verified = 0;
        var n = 0;
        foreach (var key in load.Keys.Order(StringComparer.Ordinal))
        {
            var reader = readers[n++ % readers.Length];
            var entries = await cluster.Client(reader).GetFromJsonAsync<Dictionary<string, long>>($"/test/ledger/{key}/");
            Assert.NotNull(entries);
            foreach (var ack in load.Acknowledged(key))
            {
                verified++;
                if (!entries.TryGetValue(ack.Entry, out var stored))
                    problems.Add($"{key}/{ack.Entry}={ack.Value} acknowledged but missing (read via {cluster.Name(reader)}, {entries.Count} entries present)");
                else if (stored != ack.Value)
                    problems.Add($"{key}/{ack.Entry}: acknowledged {ack.Value}, stored {stored}");
            }
        }
        Assert.True(problems.Count == 0, $"{problems.Count} of {verified} acknowledged writes lost:\n{string.Join("\n", problems.Take(40))}");
        return verified;
    }
}
