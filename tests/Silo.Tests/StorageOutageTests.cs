using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests;

/// <summary>
/// Storage going away under load, as a user would see it: PostgreSQL stopped as by a crash under a cluster of three silo
/// processes (a server private to this test, so no other test notices), and the SQLite data directory's disk filling up.
/// Nothing acknowledged is lost, writes come back within seconds of storage, the grains back off instead of retrying per
/// request, the log stays short, and no client is told a path, a host or an exception type.
/// </summary>
public sealed class StorageOutageTests(ITestOutputHelper output)
{
    private const string ClientMessage = "storage unavailable, retry later";

    [Fact]
    public async Task A_PostgreSQL_outage_under_load_loses_no_acknowledged_write_and_writes_resume_within_seconds_with_few_retries_and_log_lines()
    {
        await using var postgres = await PrivatePostgresServer.StartAsync();
        var connection = await postgres.CreateDatabaseAsync("outage");
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(30));
        int[] all = [0, 1, 2];

        await using var load = new KeyWriteLoad(cluster.HttpPorts, writers: 12, pauseBetweenWrites: TimeSpan.FromMilliseconds(5));
        var loadStarted = Stopwatch.GetTimestamp();
        load.Start();
        await load.WaitUntilEveryWriterAcknowledgedSinceAsync(loadStarted, TimeSpan.FromSeconds(30));
        await WaitForAsync(() => Task.FromResult(load.Acknowledged.Count >= 1000), TimeSpan.FromSeconds(60), () => $"1,000 acknowledged writes ({load.Acknowledged.Count} so far)");
        Assert.True(load.Failures == 0, $"writes failed before the outage:\n{load.DescribeErrors()}");
        var attemptsBefore = await KeyspaceActivationAttemptsAsync(all.Select(cluster.Client));
        var linesBefore = all.Select(i => Lines(cluster[i].Output)).ToArray();

        await postgres.StopImmediatelyAsync();
        var stoppedAt = Stopwatch.GetTimestamp();
        // The outage lasts until every silo says its storage is out and the writers met it many times over: once per
        // failed write, the keyspace used to try its activation again (thousands of tries in ten seconds).
        await WaitForAsync(async () => load.Failures >= 2000
            && await KeyspaceActivationAttemptsAsync(all.Select(cluster.Client)) - attemptsBefore >= 3
            && await EveryStorageReachableIsAsync(all.Select(cluster.Client), false),
            TimeSpan.FromSeconds(60), () => $"an outage seen by every silo with 2,000 failed writes ({load.Failures} so far)");
        var outage = Stopwatch.GetElapsedTime(stoppedAt);

        await postgres.StartAgainAsync();
        var restartedAt = Stopwatch.GetTimestamp();
        var back = await load.WaitUntilEveryWriterAcknowledgedSinceAsync(restartedAt, TimeSpan.FromSeconds(60));
        await WaitForAsync(() => EveryStorageReachableIsAsync(all.Select(cluster.Client), true), TimeSpan.FromSeconds(30), () => "every silo sees storage back");
        await load.StopAsync();

        var tries = await KeyspaceActivationAttemptsAsync(all.Select(cluster.Client)) - attemptsBefore;
        var outageLines = all.Select(i => Lines(cluster[i].Output)[linesBefore[i].Length..]).ToArray();
        output.WriteLine($"outage {outage.TotalSeconds:0.0} s: {load.Failures} writes failed, {tries} activation attempts of the keyspace; " +
            $"every writer acknowledged again {back.TotalMilliseconds:0} ms after PostgreSQL accepted connections; " +
            $"log lines per silo meanwhile: {string.Join(", ", outageLines.Select(l => l.Length))}");
        output.WriteLine(load.DescribeErrors());
        for (var i = 0; i < 3; i++) output.WriteLine($"----- {cluster.Name(i)} during the outage -----\n{string.Join('\n', outageLines[i].Select(l => l.Length > 400 ? l[..400] + "…" : l))}");

        Assert.True(back < TimeSpan.FromSeconds(10), $"writes came back {back.TotalSeconds:0.0} s after PostgreSQL");
        Assert.True(tries <= 25, $"the keyspace tried its activation {tries} times in a {outage.TotalSeconds:0.0} s outage");
        for (var i = 0; i < 3; i++)
            Assert.True(outageLines[i].Length <= 60, $"{cluster.Name(i)} logged {outageLines[i].Length} lines during the outage:\n{string.Join('\n', outageLines[i].Take(80))}");
        AssertErrorBodiesNameNothing(load, "127.0.0.1", $":{postgres.Port}", postgres.Directory, "PostgreSQL", "Npgsql", "Exception", "/tmp");
        var lost = await load.FindLostAsync(cluster.Client(0));
        Assert.True(lost.Count == 0, $"{lost.Count} of {load.Acknowledged.Count} acknowledged writes lost:\n{string.Join('\n', lost.Take(40))}");
        output.WriteLine($"{load.Acknowledged.Count} acknowledged writes verified");
        cluster.Passed = true;
    }

    [Fact]
    public async Task A_full_disk_under_SQLite_loses_no_acknowledged_write_and_writes_resume_within_seconds_of_space_with_few_retries_and_log_lines()
    {
        using var dir = new TempDir();
        var data = Path.Combine(dir.Path, "data");
        Directory.CreateDirectory(data);
        await using var disk = await SmallDisk.MountAsync(data, megabytes: 24);
        var silo = await SiloProcess.StartAsync(data);
        var passed = false;
        try
        {
            await using var load = new KeyWriteLoad([silo.Port], writers: 8, pauseBetweenWrites: TimeSpan.FromMilliseconds(5));
            var loadStarted = Stopwatch.GetTimestamp();
            load.Start();
            await load.WaitUntilEveryWriterAcknowledgedSinceAsync(loadStarted, TimeSpan.FromSeconds(30));
            await WaitForAsync(() => Task.FromResult(load.Acknowledged.Count >= 1000), TimeSpan.FromSeconds(60), () => $"1,000 acknowledged writes ({load.Acknowledged.Count} so far)");
            Assert.True(load.Failures == 0, $"writes failed before the disk was full:\n{load.DescribeErrors()}");
            var attemptsBefore = await KeyspaceActivationAttemptsAsync([silo.Http]);
            var linesBefore = Lines(silo.Output).Length;

            var filler = disk.Fill();
            var filledAt = Stopwatch.GetTimestamp();
            await WaitForAsync(async () => load.Failures >= 2000
                && await KeyspaceActivationAttemptsAsync([silo.Http]) - attemptsBefore >= 3
                && await EveryStorageReachableIsAsync([silo.Http], false),
                TimeSpan.FromSeconds(90), () => $"writes failing on the full disk, 2,000 of them ({load.Failures} so far)");
            var outage = Stopwatch.GetElapsedTime(filledAt);
            // Platform's own API answers a write it cannot store as a 503 that says only that, never a bare 500.
            await WaitForAsync(async () =>
            {
                using var fire = await silo.Http.PostAsync("/v1/events/outage-probe?coalesce=false", new ByteArrayContent([]));
                var body = await fire.Content.ReadAsStringAsync();
                Assert.True(fire.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"event fired on a full disk answered {(int)fire.StatusCode}: {body}");
                if (fire.StatusCode != HttpStatusCode.ServiceUnavailable) return false;
                Assert.Equal("{\"error\":\"storage unavailable, retry later\"}", body);
                Assert.Equal("1", fire.Headers.RetryAfter?.ToString());
                return true;
            }, TimeSpan.FromSeconds(30), () => "an event fired on the full disk to be refused with 503");

            File.Delete(filler);
            var freedAt = Stopwatch.GetTimestamp();
            var back = await load.WaitUntilEveryWriterAcknowledgedSinceAsync(freedAt, TimeSpan.FromSeconds(60));
            await load.StopAsync();

            var tries = await KeyspaceActivationAttemptsAsync([silo.Http]) - attemptsBefore;
            var outageLines = Lines(silo.Output)[linesBefore..];
            output.WriteLine($"full disk {outage.TotalSeconds:0.0} s: {load.Failures} writes failed, {tries} activation attempts of the keyspace; " +
                $"every writer acknowledged again {back.TotalMilliseconds:0} ms after space was freed; {outageLines.Length} log lines meanwhile");
            output.WriteLine(load.DescribeErrors());
            output.WriteLine($"----- the silo during the outage -----\n{string.Join('\n', outageLines.Select(l => l.Length > 400 ? l[..400] + "…" : l))}");

            Assert.True(back < TimeSpan.FromSeconds(10), $"writes came back {back.TotalSeconds:0.0} s after space was freed");
            Assert.True(tries <= 40, $"the keyspace tried its activation {tries} times in a {outage.TotalSeconds:0.0} s outage");
            Assert.True(outageLines.Length <= 60, $"the silo logged {outageLines.Length} lines during the outage:\n{string.Join('\n', outageLines.Take(80))}");
            AssertErrorBodiesNameNothing(load, data, "platform.db", "SQLite", "Exception", "/tmp");
            var lost = await load.FindLostAsync(silo.Http);
            Assert.True(lost.Count == 0, $"{lost.Count} of {load.Acknowledged.Count} acknowledged writes lost:\n{string.Join('\n', lost.Take(40))}");
            output.WriteLine($"{load.Acknowledged.Count} acknowledged writes verified");
            passed = true;
        }
        finally
        {
            if (!passed) output.WriteLine(silo.Output.Length > 20000 ? silo.Output[^20000..] : silo.Output);
            await silo.DisposeAsync();
        }
    }

    /// <summary>Every error a writer got says storage is unavailable and names none of <paramref name="secrets"/>.</summary>
    private static void AssertErrorBodiesNameNothing(KeyWriteLoad load, params string[] secrets)
    {
        Assert.Contains(load.ErrorBodies.Keys, body => body.Contains(ClientMessage, StringComparison.Ordinal));
        foreach (var body in load.ErrorBodies.Keys)
        {
            foreach (var secret in secrets)
                Assert.False(body.Contains(secret, StringComparison.Ordinal), $"an error body names '{secret}': {body}");
        }
    }

    private static string[] Lines(string log) => log.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>Activations of the keyspace grain started (failed ones included), summed over the silos' /v1/cluster.</summary>
    private static async Task<long> KeyspaceActivationAttemptsAsync(IEnumerable<HttpClient> silos)
    {
        long total = 0;
        foreach (var client in silos)
        {
            using var doc = JsonDocument.Parse(await client.GetStringAsync("/v1/cluster"));
            foreach (var type in doc.RootElement.GetProperty("grainTypes").EnumerateArray())
                if (type.GetProperty("grainType").GetString() == "keyspace") total += type.GetProperty("activationAttempts").GetInt64();
        }
        return total;
    }

    /// <summary>Whether /health/ready (still 200) and /v1/cluster of every silo say storage is <paramref name="reachable"/>.</summary>
    private static async Task<bool> EveryStorageReachableIsAsync(IEnumerable<HttpClient> silos, bool reachable)
    {
        foreach (var client in silos)
        {
            using var ready = await client.GetAsync("/health/ready");
            if (!ready.IsSuccessStatusCode) return false;
            using var health = JsonDocument.Parse(await ready.Content.ReadAsStringAsync());
            using var cluster = JsonDocument.Parse(await client.GetStringAsync("/v1/cluster"));
            if (health.RootElement.GetProperty("storageReachable").GetBoolean() != reachable
                || cluster.RootElement.GetProperty("storageReachable").GetBoolean() != reachable) return false;
        }
        return true;
    }

    private static async Task WaitForAsync(Func<Task<bool>> condition, TimeSpan timeout, Func<string> what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > timeout) throw new TimeoutException($"not within {timeout.TotalSeconds:0} s: {what()}");
            await Task.Delay(50);
        }
    }
}
