using System.Globalization;
using System.Net;
using System.Text.Json;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Keys;

/// <summary>The keyspace in a cluster of three silo processes on PostgreSQL: watches anywhere, writes anywhere, kill -9 of its owner.</summary>
[Collection(PostgresCollection.Name)]
public sealed class KeysClusterTests(PostgresFixture postgres, ITestOutputHelper output)
{
    private static FormUrlEncodedContent Value(string value) => new([new KeyValuePair<string, string>("value", value)]);

    private static async Task<JsonElement> Json(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();

    /// <summary>The silo whose /v1/cluster shows the keyspace grain active.</summary>
    private static async Task<int> KeyspaceOwnerAsync(SiloClusterProcesses cluster, IReadOnlyList<int> silos)
    {
        foreach (var i in silos)
        {
            using var doc = JsonDocument.Parse(await cluster.Client(i).GetStringAsync("/v1/cluster"));
            foreach (var type in doc.RootElement.GetProperty("grainTypes").EnumerateArray())
                if (type.GetProperty("grainType").GetString() == "keyspace" && type.GetProperty("activations").GetInt64() > 0) return i;
        }
        return -1;
    }

    /// <summary>
    /// Writes value <paramref name="n"/> over <c>n - 1</c> (a compare-and-swap, so it can be written at most once): the
    /// value and its index once written, null when the attempt failed and may be retried. An attempt given up after 5 s
    /// may still have committed; then the retry's compare fails, and a read shows whether the key holds <paramref name="n"/>.
    /// </summary>
    private static async Task<(string Value, ulong Index)?> TryWriteOnceAsync(HttpClient client, int n)
    {
        var value = n.ToString(CultureInfo.InvariantCulture);
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            using var r = await client.PutAsync($"/v2/keys/cluster/k?prevValue={n - 1}", Value(value), cts.Token);
            var body = await Json(r);
            if (r.IsSuccessStatusCode) return (value, body.GetProperty("node").GetProperty("modifiedIndex").GetUInt64());
            if (body.TryGetProperty("errorCode", out var code) && code.GetInt32() == 101)
            {
                // Compare failed: an attempt that was given up committed (the key holds n), or something else wrote it.
                using var read = await client.GetAsync("/v2/keys/cluster/k", cts.Token);
                var node = (await Json(read)).GetProperty("node");
                Assert.Equal(value, node.GetProperty("value").GetString());
                return (value, node.GetProperty("modifiedIndex").GetUInt64());
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException)
        {
        }
        return null;
    }

    [Fact]
    public async Task A_write_refused_because_another_activation_fenced_the_journal_is_stored_not_answered_with_an_error()
    {
        var connection = await postgres.DatabaseForAsync(nameof(A_write_refused_because_another_activation_fenced_the_journal_is_stored_not_answered_with_an_error));
        await using var cluster = new SiloClusterProcesses(connection, 1, output);
        await cluster.StartAllAsync();
        using var first = await cluster.Client(0).PutAsync("/v2/keys/fence/k", Value("0"));
        Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        var index = (await Json(first)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();

        // What a second activation does when it opens the stream (two silos briefly disagreeing on the owner while
        // they join): the running activation's next append is refused, and nothing of that write is stored.
        await using (var db = new Npgsql.NpgsqlConnection(connection))
        {
            await db.OpenAsync();
            await using var bump = new Npgsql.NpgsqlCommand("UPDATE journal_head SET epoch = epoch + 1 WHERE stream = 'keyspace/default'", db);
            Assert.Equal(1, await bump.ExecuteNonQueryAsync());
        }

        using var second = await cluster.Client(0).PutAsync("/v2/keys/fence/k", Value("1"));
        Assert.True(second.IsSuccessStatusCode, await second.Content.ReadAsStringAsync());
        var stored = (await Json(second)).GetProperty("node");
        Assert.Equal("1", stored.GetProperty("value").GetString());
        Assert.Equal(index + 1, stored.GetProperty("modifiedIndex").GetUInt64());
        await cluster[0].WaitForOutputAsync("refused", TimeSpan.FromSeconds(30));
        var read = (await Json(await cluster.Client(0).GetAsync("/v2/keys/fence/k"))).GetProperty("node");
        Assert.Equal("1", read.GetProperty("value").GetString());
        cluster.Passed = true;
    }

    [Fact]
    public async Task A_watch_made_after_a_write_was_answered_through_another_silo_wakes_for_the_next_write_never_for_that_one()
    {
        var connection = await postgres.DatabaseForAsync(nameof(A_watch_made_after_a_write_was_answered_through_another_silo_wakes_for_the_next_write_never_for_that_one));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(30));

        using var first = await cluster.Client(0).PutAsync("/v2/keys/linear/k", Value("0"));
        Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        var answered = (await Json(first)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
        // Each round: write n was answered through silo n % 3; a watch goes to the next silo, write n + 1 through the third.
        const int rounds = 200;
        for (var n = 0; n < rounds; n++)
        {
            var watcher = cluster.Client((n + 1) % 3);
            using var watch = await watcher.GetAsync("/v2/keys/linear/k?wait=true", HttpCompletionOption.ResponseHeadersRead);
            Assert.Equal(HttpStatusCode.OK, watch.StatusCode);
            // The headers come once the watch is armed; it starts at or after the write answered before it was made.
            var start = ulong.Parse(watch.Headers.GetValues("X-Etcd-Index").Single(), CultureInfo.InvariantCulture);
            Assert.True(start >= answered, $"round {n}: the watch starts at {start}, before write {n} (index {answered}) that was answered before it was made");

            using var put = await cluster.Client((n + 2) % 3).PutAsync("/v2/keys/linear/k", Value((n + 1).ToString(CultureInfo.InvariantCulture)));
            Assert.True(put.IsSuccessStatusCode, await put.Content.ReadAsStringAsync());
            var next = (await Json(put)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();

            var e = (await Json(watch).WaitAsync(TimeSpan.FromSeconds(15))).GetProperty("node");
            Assert.True((n + 1).ToString(CultureInfo.InvariantCulture) == e.GetProperty("value").GetString(),
                $"round {n}: the watch made after write {n} (index {answered}) was answered reported {e}; expected write {n + 1} (index {next})");
            Assert.Equal(next, e.GetProperty("modifiedIndex").GetUInt64());
            answered = next;
        }
        cluster.Passed = true;
    }

    [Fact]
    public async Task A_consul_blocking_query_made_after_a_write_was_answered_through_another_silo_wakes_for_the_next_write_never_for_that_one()
    {
        var connection = await postgres.DatabaseForAsync(nameof(A_consul_blocking_query_made_after_a_write_was_answered_through_another_silo_wakes_for_the_next_write_never_for_that_one));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(30));

        var stale = await ConsulPut(cluster.Client(0), "0");
        var answered = await ConsulPut(cluster.Client(0), "1");
        const int rounds = 200;
        for (var n = 1; n <= rounds; n++)
        {
            var reader = cluster.Client((n + 1) % 3);
            // Without an index, and with one older than the answered write: write n at once.
            Assert.Equal((n.ToString(CultureInfo.InvariantCulture), answered), await ConsulGet(reader, "linear/c"));
            Assert.Equal((n.ToString(CultureInfo.InvariantCulture), answered), await ConsulGet(reader, $"linear/c?index={stale}&wait=30s"));
            // With the answered write's index: write n + 1, whether the query was armed before that write or after.
            var blocking = ConsulGet(reader, $"linear/c?index={answered}&wait=30s");
            var next = await ConsulPut(cluster.Client((n + 2) % 3), (n + 1).ToString(CultureInfo.InvariantCulture));
            var woke = await blocking.WaitAsync(TimeSpan.FromSeconds(15));
            Assert.True(woke == ((n + 1).ToString(CultureInfo.InvariantCulture), next),
                $"round {n}: the blocking query with index {answered} (write {n}) answered {woke}; expected write {n + 1} (index {next})");
            (stale, answered) = (answered, next);
        }
        cluster.Passed = true;
    }

    private static async Task<ulong> ConsulPut(HttpClient client, string value)
    {
        using var put = await client.PutAsync("/v1/kv/linear/c", new StringContent(value));
        Assert.Equal("true", await put.Content.ReadAsStringAsync());
        return ulong.Parse(put.Headers.GetValues("X-Consul-Index").Single(), CultureInfo.InvariantCulture);
    }

    /// <summary>The value and X-Consul-Index of a GET of one key.</summary>
    private static async Task<(string Value, ulong Index)> ConsulGet(HttpClient client, string keyAndQuery)
    {
        using var get = await client.GetAsync("/v1/kv/" + keyAndQuery);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        var entry = (await Json(get))[0];
        var value = System.Text.Encoding.UTF8.GetString(Convert.FromBase64String(entry.GetProperty("Value").GetString()!));
        return (value, ulong.Parse(get.Headers.GetValues("X-Consul-Index").Single(), CultureInfo.InvariantCulture));
    }

    [Fact]
    public async Task Watchers_on_every_silo_hear_a_write_made_through_any_silo_and_survive_a_kill_of_the_keyspace_owner()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Watchers_on_every_silo_hear_a_write_made_through_any_silo_and_survive_a_kill_of_the_keyspace_owner));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(30));

        using var first = await cluster.Client(0).PutAsync("/v2/keys/cluster/k", Value("0"));
        Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        var owner = await KeyspaceOwnerAsync(cluster, [0, 1, 2]);
        Assert.True(owner >= 0, "no silo reports the keyspace grain");
        output.WriteLine($"keyspace on silo{owner}");

        // A watch on each silo; the write goes through a silo that does not own the keyspace.
        var watches = Enumerable.Range(0, 3).Select(i => cluster.Client(i).GetAsync("/v2/keys/cluster/k?wait=true", HttpCompletionOption.ResponseHeadersRead)).ToArray();
        var registered = await Task.WhenAll(watches);
        var writer = (owner + 1) % 3;
        using var put = await cluster.Client(writer).PutAsync("/v2/keys/cluster/k", Value("1"));
        var index = (await Json(put)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
        foreach (var r in registered)
        {
            var e = await Json(r);
            Assert.Equal("1", e.GetProperty("node").GetProperty("value").GetString());
            Assert.Equal(index, e.GetProperty("node").GetProperty("modifiedIndex").GetUInt64());
            r.Dispose();
        }

        // Kill the owner; writes through the survivors resume once it is declared dead, and nothing acknowledged is lost.
        int[] survivors = [.. new[] { 0, 1, 2 }.Where(i => i != owner)];
        var acknowledged = new List<(string Value, ulong Index)> { ("1", index) };
        await cluster[owner].KillAsync();
        var deadline = DateTime.UtcNow.AddSeconds(40);
        for (var n = 2; n <= 20; n++)
        {
            while (true)
            {
                Assert.True(DateTime.UtcNow < deadline, "writes did not resume within 40 s of the kill");
                if (await TryWriteOnceAsync(cluster.Client(survivors[n % 2]), n) is { } written)
                {
                    acknowledged.Add(written);
                    break;
                }
                await Task.Delay(200);
            }
        }
        Assert.Equal(acknowledged.Select(a => a.Index).Order(), acknowledged.Select(a => a.Index));

        // Every acknowledged write is in the history, in order, on both survivors.
        foreach (var s in survivors)
        {
            var next = index;
            foreach (var (value, at) in acknowledged)
            {
                using var r = await cluster.Client(s).GetAsync($"/v2/keys/cluster/k?wait=true&waitIndex={next}");
                Assert.Equal(HttpStatusCode.OK, r.StatusCode);
                var e = await Json(r);
                Assert.Equal(value, e.GetProperty("node").GetProperty("value").GetString());
                Assert.Equal(at, e.GetProperty("node").GetProperty("modifiedIndex").GetUInt64());
                next = at + 1;
            }
        }
        cluster.Passed = true;
    }
}
