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
        cluster[owner].Kill();
        var deadline = DateTime.UtcNow.AddSeconds(40);
        for (var n = 2; n <= 20; n++)
        {
            while (true)
            {
                Assert.True(DateTime.UtcNow < deadline, "writes did not resume within 40 s of the kill");
                try
                {
                    using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    using var r = await cluster.Client(survivors[n % 2]).PutAsync("/v2/keys/cluster/k", Value(n.ToString()), cts.Token);
                    if (r.IsSuccessStatusCode)
                    {
                        acknowledged.Add((n.ToString(), (await Json(r)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64()));
                        break;
                    }
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
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
