using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Keys;

/// <summary>The keyspace through a real silo process: durability across kill -9, TTL expiry (also after a restart), and watches.</summary>
public sealed class KeysProcessTests
{
    private static FormUrlEncodedContent Form(params (string Name, string Value)[] fields) =>
        new(fields.Select(f => new KeyValuePair<string, string>(f.Name, f.Value)));

    private static async Task<JsonElement> Json(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    [Fact]
    public async Task Acknowledged_writes_survive_kill_9_with_their_indexes()
    {
        using var dir = new TempDir();
        var acknowledged = new Dictionary<string, (string Value, ulong Index)>();
        await using (var silo = await SiloProcess.StartAsync(dir.Path))
        {
            var writers = Enumerable.Range(0, 16).Select(async w =>
            {
                var mine = new List<(string, string, ulong)>();
                for (var i = 0; i < 30; i++)
                {
                    var key = $"/durable/w{w}/k{i % 7}";
                    var value = $"v{w}-{i}";
                    using var r = await silo.Http.PutAsync("/v2/keys" + key, Form(("value", value)));
                    Assert.True(r.IsSuccessStatusCode, await r.Content.ReadAsStringAsync());
                    var index = (await Json(r)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
                    mine.Add((key, value, index));
                }
                return mine;
            });
            foreach (var list in await Task.WhenAll(writers))
                foreach (var (key, value, index) in list) acknowledged[key] = (value, index);
            await silo.KillAsync();
        }

        await using var restarted = await SiloProcess.StartAsync(dir.Path);
        foreach (var (key, (value, index)) in acknowledged)
        {
            using var r = await restarted.Http.GetAsync("/v2/keys" + key);
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            var node = (await Json(r)).GetProperty("node");
            Assert.Equal(value, node.GetProperty("value").GetString());
            Assert.Equal(index, node.GetProperty("modifiedIndex").GetUInt64());
        }
        // The index goes on from where it was: the next write takes the next number.
        var highest = acknowledged.Values.Max(v => v.Index);
        using var next = await restarted.Http.PutAsync("/v2/keys/durable/after", Form(("value", "x")));
        Assert.Equal(highest + 1, (await Json(next)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64());
    }

    [Fact]
    public async Task A_TTL_expires_on_time_and_wakes_a_watcher_with_an_expire_event()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        using var set = await silo.Http.PutAsync("/v2/keys/ttl/short", Form(("value", "soon"), ("ttl", "1")));
        Assert.Equal(HttpStatusCode.Created, set.StatusCode);
        var setIndex = (await Json(set)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
        var expiration = DateTimeOffset.Parse((await Json(set)).GetProperty("node").GetProperty("expiration").GetString()!);

        using var watch = await silo.Http.GetAsync($"/v2/keys/ttl/short?wait=true&waitIndex={setIndex + 1}");
        var woke = DateTimeOffset.UtcNow;
        var e = await Json(watch);
        Assert.Equal("expire", e.GetProperty("action").GetString());
        Assert.Equal("soon", e.GetProperty("prevNode").GetProperty("value").GetString());
        Assert.True(woke - expiration < TimeSpan.FromSeconds(1), $"expired {woke - expiration} after its expiration time");
        using var gone = await silo.Http.GetAsync("/v2/keys/ttl/short");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_TTL_that_runs_out_while_the_silo_is_down_expires_after_restart_as_an_event()
    {
        using var dir = new TempDir();
        ulong setIndex;
        await using (var silo = await SiloProcess.StartAsync(dir.Path))
        {
            using var set = await silo.Http.PutAsync("/v2/keys/ttl/down", Form(("value", "v"), ("ttl", "2")));
            setIndex = (await Json(set)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
            await silo.KillAsync();
        }
        await Task.Delay(2500);
        await using var restarted = await SiloProcess.StartAsync(dir.Path);
        using var watch = await restarted.Http.GetAsync($"/v2/keys/ttl/down?wait=true&waitIndex={setIndex + 1}");
        var e = await Json(watch);
        Assert.Equal("expire", e.GetProperty("action").GetString());
        Assert.Equal(setIndex + 1, e.GetProperty("node").GetProperty("modifiedIndex").GetUInt64());
        using var gone = await restarted.Http.GetAsync("/v2/keys/ttl/down");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
    }

    [Fact]
    public async Task A_watcher_that_stops_reading_costs_the_others_nothing_and_misses_nothing()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        using var first = await silo.Http.PutAsync("/v2/keys/stall/k", Form(("value", "0")));
        var start = (await Json(first)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();

        // A streaming watcher whose client never reads: its socket buffers fill up.
        using var stalled = new TcpClient();
        await stalled.ConnectAsync(IPAddress.Loopback, silo.Port);
        var request = Encoding.ASCII.GetBytes($"GET /v2/keys/stall/k?wait=true&stream=true&waitIndex={start + 1} HTTP/1.1\r\nHost: x\r\n\r\n");
        await stalled.GetStream().WriteAsync(request);

        var big = new string('x', 200_000);
        const int Writes = 40;
        for (var i = 1; i <= Writes; i++)
        {
            using var r = await silo.Http.PutAsync("/v2/keys/stall/k", Form(("value", big + i)));
            Assert.True(r.IsSuccessStatusCode);
        }

        // Long-poll watchers walking the history from the start each see every event, in order, while the stalled one sits.
        var walkers = Enumerable.Range(0, 5).Select(async _ =>
        {
            var seen = new List<ulong>();
            var next = start + 1;
            for (var i = 0; i < Writes; i++)
            {
                using var r = await silo.Http.GetAsync($"/v2/keys/stall/k?wait=true&waitIndex={next}");
                var e = await Json(r);
                var index = e.GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
                seen.Add(index);
                next = index + 1;
            }
            return seen;
        });
        var sw = Stopwatch.StartNew();
        foreach (var seen in await Task.WhenAll(walkers))
            Assert.Equal(Enumerable.Range(1, Writes).Select(i => start + (ulong)i), seen);
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(20));

        // The stalled stream still gets everything once its client reads: nothing was dropped.
        var reader = new StreamReader(stalled.GetStream(), Encoding.UTF8);
        var text = new StringBuilder();
        var received = 0;
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var buffer = new char[1 << 16];
        while (received < Writes)
        {
            var n = await reader.ReadAsync(buffer, cts.Token);
            Assert.True(n > 0, "stream closed early");
            text.Append(buffer, 0, n);
            received = CountOccurrences(text, "\"action\":\"set\"");
        }
        Assert.Equal(Writes, received);
    }

    private static int CountOccurrences(StringBuilder text, string what)
    {
        var s = text.ToString();
        var count = 0;
        for (var i = s.IndexOf(what, StringComparison.Ordinal); i >= 0; i = s.IndexOf(what, i + what.Length, StringComparison.Ordinal)) count++;
        return count;
    }

    [Fact]
    public async Task A_watch_made_after_a_write_does_not_wake_for_it_and_the_next_write_wakes_all_watchers()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 1000 }) { BaseAddress = silo.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var before = await http.PutAsync("/v2/keys/notify", Form(("value", "before")));
        var watchers = Enumerable.Range(0, 200).Select(_ => http.GetAsync("/v2/keys/notify?wait=true", HttpCompletionOption.ResponseHeadersRead)).ToArray();
        // Headers arrive once a watch is registered.
        var registered = await Task.WhenAll(watchers);
        Assert.All(registered, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        using var put = await http.PutAsync("/v2/keys/notify", Form(("value", "after")));
        var index = (await Json(put)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
        foreach (var r in registered)
        {
            var e = await Json(r);
            Assert.Equal("after", e.GetProperty("node").GetProperty("value").GetString());
            Assert.Equal(index, e.GetProperty("node").GetProperty("modifiedIndex").GetUInt64());
            Assert.Equal((index - 1).ToString(), r.Headers.GetValues("X-Etcd-Index").Single());
            r.Dispose();
        }
    }

    [Fact]
    public async Task Past_the_history_window_a_watch_gets_etcds_401_and_a_larger_window_is_configurable()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path, null, "--Platform:Keys:HistoryCapacity", "50");
        ulong last = 0;
        for (var i = 0; i < 60; i++)
        {
            using var r = await silo.Http.PutAsync("/v2/keys/busy", Form(("value", i.ToString())));
            last = (await Json(r)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64();
        }
        using var old = await silo.Http.GetAsync("/v2/keys/busy?wait=true&waitIndex=1");
        Assert.Equal(HttpStatusCode.BadRequest, old.StatusCode);
        var error = await Json(old);
        Assert.Equal(401, error.GetProperty("errorCode").GetInt32());
        Assert.Equal("The event in requested index is outdated and cleared", error.GetProperty("message").GetString());
        Assert.Equal($"the requested history has been cleared [{last - 49}/1]", error.GetProperty("cause").GetString());
        Assert.Equal(last, error.GetProperty("index").GetUInt64());

        using var inWindow = await silo.Http.GetAsync($"/v2/keys/busy?wait=true&waitIndex={last - 49}");
        Assert.Equal(last - 49, (await Json(inWindow)).GetProperty("node").GetProperty("modifiedIndex").GetUInt64());
    }

    [Fact]
    public async Task SIGTERM_ends_open_long_polls_with_an_empty_200_and_exits_promptly()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        using var http = new HttpClient { BaseAddress = silo.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        var watches = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => http.GetAsync("/v2/keys/quiet?wait=true", HttpCompletionOption.ResponseHeadersRead)));
        var sw = Stopwatch.StartNew();
        Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(30)));
        Assert.True(sw.Elapsed < TimeSpan.FromSeconds(10), $"stopping took {sw.Elapsed}");
        foreach (var r in watches)
        {
            Assert.Equal(HttpStatusCode.OK, r.StatusCode);
            Assert.Equal("", await r.Content.ReadAsStringAsync());
            r.Dispose();
        }
    }
}
