using System.Globalization;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// The etcd fast path that answers plain <c>/v2/keys</c> requests below Kestrel's HTTP layer (EtcdFastPath): the
/// same bytes as the HTTP layer for reads and writes, long polls on kept connections, watchers that go away or do not read, requests it
/// leaves to Kestrel, and a stopping silo. Over raw sockets, against a real silo process.
/// </summary>
public sealed class EtcdFastPathTests(ITestOutputHelper output) : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);
    private readonly TempDir _dir = new();
    private SiloProcess _silo = null!;

    public async Task InitializeAsync() => _silo = await SiloProcess.StartAsync(_dir.Path);

    public async Task DisposeAsync()
    {
        await _silo.DisposeAsync();
        _dir.Dispose();
    }

    private async Task<Wire> ConnectAsync() => await Wire.ConnectAsync(_silo.Port);

    private async Task<JsonElement> PutAsync(string key, string value)
    {
        using var response = await _silo.Http.PutAsync("/v2/keys" + key, new FormUrlEncodedContent([new("value", value)]));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"PUT {key}: {(int)response.StatusCode} {text}");
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    private async Task<int> OpenWatchesAsync()
    {
        var cluster = JsonDocument.Parse(await _silo.Http.GetStringAsync("/v1/cluster")).RootElement;
        return cluster.GetProperty("keyWatches").GetInt32();
    }

    private async Task WaitForWatchesAsync(int expected)
    {
        var deadline = DateTime.UtcNow + Timeout;
        int now;
        while ((now = await OpenWatchesAsync()) != expected)
        {
            Assert.True(DateTime.UtcNow < deadline, $"{now} watches open on the silo, expected {expected}\n{_silo.Output}");
            await Task.Delay(20);
        }
    }

    /// <summary>Connections with a long poll on <paramref name="key"/> each, registered (their heads read).</summary>
    private async Task<List<Wire>> WatchersAsync(string key, int count)
    {
        var wires = new List<Wire>();
        for (var i = 0; i < count; i++)
        {
            var wire = await ConnectAsync();
            wires.Add(wire);
            await wire.SendAsync($"GET /v2/keys{key}?wait=true HTTP/1.1\r\nHost: x\r\n\r\n");
            await wire.ReadHeadAsync();
        }
        return wires;
    }

    [Fact]
    public async Task Its_answers_are_the_bytes_the_http_layer_writes()
    {
        await PutAsync("/same/a", "one");
        await PutAsync("/same/dir/b", "two");
        string[] targets =
        [
            "/v2/keys/same/a", "/v2/keys/same/missing", "/v2/keys/same?recursive=true&sorted=true", "/v2/keys", "/v2/keys/",
            "/v2/keys/same/a%zz", "/v2/keys/same/a?bogus=1", "/v2/keys/same/a?recursive=maybe", "/v2/keys/same/%2E%2E/x",
            "/v2/keys/same/a?wait=true&waitIndex=1", "/v2/keys/same/a?wait=true&waitIndex=abc", "/v2/keys/same/a?quorum=true",
        ];
        foreach (var target in targets)
        {
            foreach (var close in new[] { false, true })
            {
                var extra = close ? "Connection: close\r\n" : "";
                using var fast = await ConnectAsync();
                var viaFastPath = await fast.RequestAsync($"GET {target} HTTP/1.1\r\nHost: x\r\n{extra}\r\n");

                // A first request the fast path does not take gives the connection to Kestrel for good.
                using var kestrel = await ConnectAsync();
                var health = await kestrel.RequestAsync("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
                Assert.StartsWith("HTTP/1.1 200", health.Head);
                var viaKestrel = await kestrel.RequestAsync($"GET {target} HTTP/1.1\r\nHost: x\r\n{extra}\r\n");

                output.WriteLine($"GET {target}{(close ? " (close)" : "")}: {viaFastPath.Head.Split("\r\n")[0]}");
                Assert.Equal(viaKestrel.WithoutDate, viaFastPath.WithoutDate);
                if (close) Assert.True(await fast.ClosedAsync(), "the connection stays open after an answer with Connection: close");
            }
        }
    }

    /// <summary>Requests the HTTP layer has served that change keys (its request counter at <c>/metrics</c>).</summary>
    private async Task<long> HttpLayerWritesAsync()
    {
        var metrics = await _silo.Http.GetStringAsync("/metrics");
        long count = 0;
        foreach (var line in metrics.Split('\n'))
        {
            if (!line.StartsWith("http_server_request_duration_seconds_count{", StringComparison.Ordinal) || !line.Contains("http_route=\"/v2/keys", StringComparison.Ordinal)
                || line.Contains("http_request_method=\"GET\"", StringComparison.Ordinal)) continue;
            // "name{labels} value [timestamp]"
            var value = line[(line.LastIndexOf('}') + 2)..].Split(' ')[0];
            count += (long)double.Parse(value, CultureInfo.InvariantCulture);
        }
        return count;
    }

    /// <summary>Index numbers, lengths and generated keys differ between two runs of the same writes; the rest may not.</summary>
    private static string Normalized(string response) =>
        System.Text.RegularExpressions.Regex.Replace(response, "[0-9]+", "N");

    [Fact]
    public async Task Writes_get_the_answers_the_http_layer_gives_and_never_reach_it()
    {
        const string Form = "application/x-www-form-urlencoded";
        // Each write names its keys under /w/{k}: f for the fast path's run, k for the HTTP layer's.
        (string Method, string Target, string? Type, string Body)[] writes =
        [
            ("PUT", "/v2/keys/w/{k}1", Form, "value=one"),
            ("PUT", "/v2/keys/w/{k}1?prevValue=one", Form, "value=two"),
            ("PUT", "/v2/keys/w/{k}1", Form, "value=3&prevValue=nope"),
            ("PUT", "/v2/keys/w/{k}1?prevExist=false", Form, "value=z"),
            ("PUT", "/v2/keys/w/{k}1", Form, "value=%zz"),
            ("PUT", "/v2/keys/w/{k}1?x=%zz", Form, "value=1"),
            ("PUT", "/v2/keys/w/{k}1", Form, "ttl=abc&value=1"),
            ("PUT", "/v2/keys/w/{k}1", Form, "value=1&bogus=2"),
            ("PUT", "/v2/keys/w/{k}2", "text/plain", "value=ignored"),
            ("PUT", "/v2/keys/w/{k}3?value=q", Form, ""),
            ("PUT", "/v2/keys/w/{k}3?value=fromquery", Form, "value=frombody"),
            ("PUT", "/v2/keys/w/{k}4", Form + "; charset=utf-8", "value=caf%C3%A9+au+lait"),
            ("PUT", "/v2/keys/w/{k}dir", Form, "dir=true"),
            ("POST", "/v2/keys/w/{k}dir", Form, "value=queued"),
            ("DELETE", "/v2/keys/w/{k}1", null, ""),
            ("DELETE", "/v2/keys/w/{k}1", null, ""),
            ("DELETE", "/v2/keys/w/{k}dir?dir=true", null, ""),
        ];
        static string Request((string Method, string Target, string? Type, string Body) w, string k) =>
            $"{w.Method} {w.Target.Replace("{k}", k)} HTTP/1.1\r\nHost: x\r\n" +
            (w.Type is { } type ? $"Content-Type: {type}\r\n" : "") +
            (w.Method is "PUT" or "POST" ? $"Content-Length: {w.Body.Length}\r\n" : "") + "\r\n" + w.Body;

        var before = await HttpLayerWritesAsync();
        using var fast = await ConnectAsync();
        var viaFastPath = new List<string>();
        foreach (var w in writes) viaFastPath.Add((await fast.RequestAsync(Request(w, "f"))).WithoutDate);

        using var kestrel = await ConnectAsync();
        Assert.StartsWith("HTTP/1.1 200", (await kestrel.RequestAsync("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")).Head);
        var viaKestrel = new List<string>();
        foreach (var w in writes) viaKestrel.Add((await kestrel.RequestAsync(Request(w, "k"))).WithoutDate);

        for (var i = 0; i < viaFastPath.Count; i++)
        {
            output.WriteLine(viaFastPath[i].Split("\r\n")[0] + "  " + viaFastPath[i][(viaFastPath[i].IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
            Assert.Equal(Normalized(viaKestrel[i]), Normalized(viaFastPath[i].Replace("/w/f", "/w/k", StringComparison.Ordinal)));
        }

        // The HTTP layer counted its own run's writes and none of the fast path's (they were answered before its own).
        var expected = before + viaKestrel.Count;
        var deadline = DateTime.UtcNow + Timeout;
        long now;
        while ((now = await HttpLayerWritesAsync()) < expected && DateTime.UtcNow < deadline) await Task.Delay(50);
        Assert.Equal(expected, now);
    }

    [Fact]
    public async Task A_write_whose_body_comes_later_and_a_read_pipelined_behind_it_are_answered_in_order()
    {
        using var wire = await ConnectAsync();
        await wire.SendAsync("PUT /v2/keys/split/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 11\r\n\r\nval");
        await wire.SendAsync("ue=hello" + "GET /v2/keys/split/k HTTP/1.1\r\nHost: x\r\n\r\n" + "DELETE /v2/keys/split/k HTTP/1.1\r\nHost: x\r\n\r\n");
        var put = await wire.ReadResponseAsync();
        Assert.StartsWith("HTTP/1.1 201", put.Head);
        var get = await wire.ReadResponseAsync();
        Assert.StartsWith("HTTP/1.1 200", get.Head);
        Assert.Contains("\"value\":\"hello\"", get.Body);
        var delete = await wire.ReadResponseAsync();
        Assert.StartsWith("HTTP/1.1 200", delete.Head);
        Assert.Contains("\"action\":\"delete\"", delete.Body);
    }

    [Fact]
    public async Task Odd_heads_get_the_answer_kestrel_gives_them()
    {
        await PutAsync("/odd/a", "one");
        string[] heads =
        [
            "GET /v2/keys/odd/a HTTP/1.1\nHost: x\n\n",
            "GET /v2/keys/odd/a HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n  folded\r\n\r\n",
            "GET /v2/keys/odd/a HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n",
            "GET /v2/keys/odd/a HTTP/1.1\r\nHost: x\r\nX-A: caf\u00e9\r\n\r\n",
            "GET /v2/keys/odd/\u00e9 HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v2/keys/odd/a HTTP/1.1\r\nHost: x\r\nHost: x\r\n\r\n",
            "GET /v2/keys/odd/a HTTP/1.1\r\n\r\n",
            "GET /v2/keys/odd/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
            "GET /v2/keys/odd/a HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\n",
            "GET http://x/v2/keys/odd/a HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v2/keys/../version HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v2/keys/%2E%2E/version HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v2/keys/odd/" + new string('k', 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n",
            "GET /v2/keys/odd/a HTTP/1.1\r\nHost: x\r\nX-Big: " + new string('v', 33 * 1024) + "\r\n\r\n",
        ];
        foreach (var head in heads)
        {
            using var fast = await ConnectAsync();
            var viaFastPath = await fast.RequestAsync(head);
            using var kestrel = await ConnectAsync();
            Assert.StartsWith("HTTP/1.1 200", (await kestrel.RequestAsync("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")).Head);
            var viaKestrel = await kestrel.RequestAsync(head);
            output.WriteLine($"{head[..Math.Min(head.Length, 60)].ReplaceLineEndings("⏎")}: {viaFastPath.Head.Split("\r\n")[0]}");
            Assert.Equal(viaKestrel.WithoutDate, viaFastPath.WithoutDate);
        }
    }

    [Fact]
    public async Task A_long_poll_on_a_kept_connection_wakes_and_the_connection_serves_the_next_one()
    {
        var start = await PutAsync("/loop/k", "v0");
        var index = start.GetProperty("node").GetProperty("modifiedIndex").GetInt64();
        using var wire = await ConnectAsync();
        for (var i = 1; i <= 3; i++)
        {
            await wire.SendAsync($"GET /v2/keys/loop/k?wait=true&waitIndex={index + 1} HTTP/1.1\r\nHost: x\r\n\r\n");
            var head = await wire.ReadHeadAsync();
            Assert.Contains("Transfer-Encoding: chunked", head);
            await WaitForWatchesAsync(1);
            var put = await PutAsync("/loop/k", $"v{i}");
            var body = await wire.ReadBodyAsync(head);
            var e = JsonDocument.Parse(body).RootElement;
            Assert.Equal("set", e.GetProperty("action").GetString());
            Assert.Equal($"v{i}", e.GetProperty("node").GetProperty("value").GetString());
            index = put.GetProperty("node").GetProperty("modifiedIndex").GetInt64();
            Assert.Equal(index, e.GetProperty("node").GetProperty("modifiedIndex").GetInt64());
        }

        // Two requests in one write: both answered, in order.
        await wire.SendAsync("GET /v2/keys/loop/k HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/keys/loop/missing HTTP/1.1\r\nHost: x\r\n\r\n");
        var first = await wire.ReadResponseAsync();
        var second = await wire.ReadResponseAsync();
        Assert.StartsWith("HTTP/1.1 200", first.Head);
        Assert.Contains("\"value\":\"v3\"", first.Body);
        Assert.StartsWith("HTTP/1.1 404", second.Head);
    }

    [Fact]
    public async Task A_watcher_that_goes_away_leaves_the_silo_and_the_others_still_hear()
    {
        var wires = await WatchersAsync("/gone/k", 20);
        try
        {
            await WaitForWatchesAsync(20);
            foreach (var wire in wires.Take(10)) wire.Dispose();
            await WaitForWatchesAsync(10);

            await PutAsync("/gone/k", "still here");
            foreach (var wire in wires.Skip(10))
            {
                var body = await wire.ReadBodyAsync("Transfer-Encoding: chunked");
                Assert.Contains("\"value\":\"still here\"", body);
            }
            await WaitForWatchesAsync(0);
        }
        finally
        {
            foreach (var wire in wires) wire.Dispose();
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_fan_out_answers_through_the_send_ring_where_the_kernel_has_one_and_without_it_when_turned_off(bool ring)
    {
        const int watchers = 100;
        if (!ring)
        {
            await _silo.DisposeAsync();
            _silo = await SiloProcess.StartAsync(_dir.Path, port: null, extra: "--Platform:FanOutRing=false");
        }
        var wires = await WatchersAsync("/ring/k", watchers);
        try
        {
            await WaitForWatchesAsync(watchers);
            var before = await Telemetry.MetricsTests.ScrapeAsync(_silo);

            await PutAsync("/ring/k", "fanned");
            foreach (var wire in wires)
                Assert.Contains("\"value\":\"fanned\"", await wire.ReadBodyAsync("Transfer-Encoding: chunked"));

            // Scraped afresh (the exporter caches a scrape briefly): one that shows the write, or the ring's sends.
            var ringOffered = ring && !_silo.Output.Contains("send ring: io_uring not available");
            const string sends = "platform_keys_ring_sends_total";
            var after = await Telemetry.MetricsTests.PollAsync(_silo, m => m["platform_keys_index_total"] > before["platform_keys_index_total"] && (!ringOffered || m[sends] > before[sends]));
            var sent = after[sends] - before[sends];
            output.WriteLine($"{sent} of {watchers} answers through the ring");
            // A handler set after its watch fired answers on the connection's own thread, without the ring; that
            // needs the event between the head's send and the next statement, so nearly every answer takes the ring.
            if (ringOffered) Assert.InRange(sent, 1, watchers);
            else Assert.Equal(0, sent);
        }
        finally
        {
            foreach (var wire in wires) wire.Dispose();
        }
    }

    [Fact]
    public async Task A_watcher_that_does_not_read_holds_up_nobody_and_still_gets_the_whole_event()
    {
        // A 2 MB event (the value and the previous one) to a watcher that does not read.
        await PutAsync("/slow/k", new string('p', 1_000_000));
        var value = new string('v', 1_000_000);
        using var stalled = await Wire.ConnectAsync(_silo.Port, receiveBuffer: 4096);
        await stalled.SendAsync("GET /v2/keys/slow/k?wait=true HTTP/1.1\r\nHost: x\r\n\r\n");
        var stalledHead = await stalled.ReadHeadAsync();
        var readers = await WatchersAsync("/slow/k", 20);
        try
        {
            await WaitForWatchesAsync(21);

            await PutAsync("/slow/k", value);
            var heard = await Task.WhenAll(readers.Select(r => r.ReadBodyAsync("Transfer-Encoding: chunked")));
            Assert.All(heard, body => Assert.Equal(value, JsonDocument.Parse(body).RootElement.GetProperty("node").GetProperty("value").GetString()));

            // Now the stalled watcher reads: the whole event, then its connection serves the next request.
            var late = await stalled.ReadBodyAsync(stalledHead);
            Assert.Equal(value, JsonDocument.Parse(late).RootElement.GetProperty("node").GetProperty("value").GetString());
            var next = await stalled.RequestAsync("GET /v2/keys/slow/missing HTTP/1.1\r\nHost: x\r\n\r\n");
            Assert.StartsWith("HTTP/1.1 404", next.Head);
        }
        finally
        {
            foreach (var wire in readers) wire.Dispose();
        }
    }

    [Fact]
    public async Task Answers_a_client_does_not_read_queue_in_order_without_holding_up_watchers()
    {
        var big = new string('b', 1_000_000);
        var put = await PutAsync("/queued/big", big);
        var next = put.GetProperty("node").GetProperty("modifiedIndex").GetInt64() + 1;
        // Six 1 MB answers are more than the socket takes for a client that does not read: the rest waits in the
        // transport's output, and the long poll pipelined behind them must come after them, whole.
        using var stalled = await Wire.ConnectAsync(_silo.Port, receiveBuffer: 4096);
        var pipelined = new StringBuilder();
        for (var i = 0; i < 6; i++) pipelined.Append("GET /v2/keys/queued/big HTTP/1.1\r\nHost: x\r\n\r\n");
        pipelined.Append($"GET /v2/keys/queued/k?wait=true&waitIndex={next} HTTP/1.1\r\nHost: x\r\n\r\n");
        await stalled.SendAsync(pipelined.ToString());

        var readers = await WatchersAsync("/queued/k", 20);
        try
        {
            await WaitForWatchesAsync(20);
            var changed = await PutAsync("/queued/k", "changed");
            Assert.Equal(next, changed.GetProperty("node").GetProperty("modifiedIndex").GetInt64());
            var heard = await Task.WhenAll(readers.Select(r => r.ReadBodyAsync("Transfer-Encoding: chunked")));
            Assert.All(heard, body => Assert.Contains("\"value\":\"changed\"", body));
        }
        finally
        {
            foreach (var wire in readers) wire.Dispose();
        }

        for (var i = 0; i < 6; i++)
        {
            var answer = await stalled.ReadResponseAsync();
            Assert.StartsWith("HTTP/1.1 200", answer.Head);
            Assert.Equal(big, JsonDocument.Parse(answer.Body).RootElement.GetProperty("node").GetProperty("value").GetString());
        }
        var watched = await stalled.ReadResponseAsync();
        Assert.Contains("\"value\":\"changed\"", watched.Body);
    }

    [Fact]
    public async Task Requests_it_does_not_take_go_to_kestrel_on_the_same_connection()
    {
        using var wire = await ConnectAsync();
        var missing = await wire.RequestAsync("GET /v2/keys/mixed/k HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 404", missing.Head);
        var put = await wire.RequestAsync("PUT /v2/keys/mixed/k HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7\r\n\r\nvalue=1");
        Assert.StartsWith("HTTP/1.1 201", put.Head);
        var chunkedBody = await wire.RequestAsync("GET /v2/keys/mixed/k HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", chunkedBody.Head);
        Assert.Contains("\"value\":\"1\"", chunkedBody.Body);

        using var old = await ConnectAsync();
        var http10 = await old.RequestAsync("GET /v2/keys/mixed/k HTTP/1.0\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", http10.Head);
        Assert.Contains("\"value\":\"1\"", http10.Body);

        using var noHost = await ConnectAsync();
        var bad = await noHost.RequestAsync("GET /v2/keys/mixed/k HTTP/1.1\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 400", bad.Head);

        using var stream = await ConnectAsync();
        await stream.SendAsync("GET /v2/keys/mixed/k?wait=true&stream=true HTTP/1.1\r\nHost: x\r\n\r\n");
        var streamHead = await stream.ReadHeadAsync();
        Assert.Contains("Transfer-Encoding: chunked", streamHead);
        await WaitForWatchesAsync(1);
        await PutAsync("/mixed/k", "2");
        Assert.Contains("\"value\":\"2\"", await stream.ReadChunkAsync());

        // The parameter's name escaped is still a stream (Go decodes names too): every event, not just the first.
        using var escaped = await ConnectAsync();
        await escaped.SendAsync("GET /v2/keys/mixed/k?wait=true&str%65am=true HTTP/1.1\r\nHost: x\r\n\r\n");
        await escaped.ReadHeadAsync();
        await WaitForWatchesAsync(2);
        await PutAsync("/mixed/k", "3");
        Assert.Contains("\"value\":\"3\"", await escaped.ReadChunkAsync());
        await WaitForWatchesAsync(2);
        await PutAsync("/mixed/k", "4");
        Assert.Contains("\"value\":\"4\"", await escaped.ReadChunkAsync());
    }

    [Fact]
    public async Task A_long_poll_outlives_the_keep_alive_timeout_and_an_idle_connection_does_not()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path, extra: ["--Kestrel:Limits:KeepAliveTimeout", "00:00:02"]);
        // Several idle connections: one clock serves all of a listener's connections.
        var idle = new List<Wire>();
        for (var i = 0; i < 3; i++)
        {
            idle.Add(await Wire.ConnectAsync(silo.Port));
            Assert.StartsWith("HTTP/1.1 404", (await idle[i].RequestAsync("GET /v2/keys/ka/missing HTTP/1.1\r\nHost: x\r\n\r\n")).Head);
        }
        using var watching = await Wire.ConnectAsync(silo.Port);
        await watching.SendAsync("GET /v2/keys/ka/k?wait=true HTTP/1.1\r\nHost: x\r\n\r\n");
        var head = await watching.ReadHeadAsync();
        var idleFor = System.Diagnostics.Stopwatch.StartNew();

        foreach (var connection in idle)
        {
            Assert.True(await connection.ClosedAsync(), "an idle connection was not closed");
            connection.Dispose();
        }
        Assert.InRange(idleFor.Elapsed.TotalSeconds, 1.5, 15);
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        using (var put = await silo.Http.PutAsync("/v2/keys/ka/k", new FormUrlEncodedContent([new("value", "late")])))
            Assert.True(put.IsSuccessStatusCode);
        Assert.Contains("\"value\":\"late\"", await watching.ReadBodyAsync(head));
        // Answered, the connection is idle: it closes after the keep-alive timeout too.
        Assert.True(await watching.ClosedAsync(), "the connection was not closed after its long poll was answered");
    }

    [Fact]
    public async Task A_stopping_silo_ends_open_long_polls_and_closes_idle_connections_at_once()
    {
        using var idle = await ConnectAsync();
        var answer = await idle.RequestAsync("GET /v2/keys/ HTTP/1.1\r\nHost: x\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 200", answer.Head);
        using var watching = await ConnectAsync();
        await watching.SendAsync("GET /v2/keys/stop/k?wait=true HTTP/1.1\r\nHost: x\r\n\r\n");
        var head = await watching.ReadHeadAsync();
        await WaitForWatchesAsync(1);

        var stopping = System.Diagnostics.Stopwatch.StartNew();
        var exit = await _silo.TerminateAsync(TimeSpan.FromSeconds(40));
        Assert.Equal(0, exit);
        // The silo waits up to 45 s for connections that stay open; these must not hold it.
        Assert.True(stopping.Elapsed < TimeSpan.FromSeconds(10), $"the silo took {stopping.Elapsed.TotalSeconds:0.0} s to stop");
        Assert.Equal("", await watching.ReadBodyAsync(head));
        Assert.True(await idle.ClosedAsync(), "the idle connection was not closed");
    }
}

/// <summary>One client connection over a raw socket: requests written as given, responses read one at a time.</summary>
internal sealed class Wire : IDisposable
{
    private readonly Socket _socket;
    private readonly List<byte> _pending = [];

    private Wire(Socket socket) => _socket = socket;

    public static async Task<Wire> ConnectAsync(int port, int? receiveBuffer = null)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        if (receiveBuffer is { } size) socket.ReceiveBufferSize = size;
        await socket.ConnectAsync(System.Net.IPAddress.Loopback, port);
        return new Wire(socket);
    }

    public async Task SendAsync(string request)
    {
        var bytes = Encoding.UTF8.GetBytes(request);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await _socket.SendAsync(bytes, SocketFlags.None, timeout.Token);
    }

    public async Task<(string Head, string Body, string WithoutDate)> RequestAsync(string request)
    {
        await SendAsync(request);
        return await ReadResponseAsync();
    }

    public async Task<(string Head, string Body, string WithoutDate)> ReadResponseAsync()
    {
        var head = await ReadHeadAsync();
        var body = await ReadBodyAsync(head);
        var withoutDate = string.Join("\r\n", head.Split("\r\n").Where(l => !l.StartsWith("Date:", StringComparison.Ordinal))) + "\r\n\r\n" + body;
        return (head, body, withoutDate);
    }

    /// <summary>The status line and headers (without the empty line).</summary>
    public async Task<string> ReadHeadAsync()
    {
        int end;
        while ((end = IndexOf("\r\n\r\n"u8)) < 0) await FillAsync();
        var head = Take(end + 4);
        return Encoding.Latin1.GetString(head, 0, end);
    }

    /// <summary>The body the head announces (Content-Length or chunked; none for HTTP/1.0-style close-delimited).</summary>
    public async Task<string> ReadBodyAsync(string head)
    {
        var lines = head.Split("\r\n");
        if (lines.Any(l => l.Equals("Transfer-Encoding: chunked", StringComparison.OrdinalIgnoreCase)))
        {
            var body = new StringBuilder();
            string chunk;
            while ((chunk = await ReadChunkAsync()).Length > 0) body.Append(chunk);
            return body.ToString();
        }
        var length = lines.FirstOrDefault(l => l.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase));
        if (length is null) return "";
        var n = int.Parse(length["Content-Length:".Length..].Trim(), CultureInfo.InvariantCulture);
        while (_pending.Count < n) await FillAsync();
        return Encoding.UTF8.GetString(Take(n));
    }

    /// <summary>One chunk of a chunked body ("" for the last one, whose trailer end is read too).</summary>
    public async Task<string> ReadChunkAsync()
    {
        int line;
        while ((line = IndexOf("\r\n"u8)) < 0) await FillAsync();
        var size = int.Parse(Encoding.ASCII.GetString(Take(line + 2), 0, line), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
        while (_pending.Count < size + 2) await FillAsync();
        var data = Take(size + 2);
        return Encoding.UTF8.GetString(data, 0, size);
    }

    /// <summary>Whether the server closes the connection (within 30 s) without sending anything more.</summary>
    public async Task<bool> ClosedAsync()
    {
        var buffer = new byte[256];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            return await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token) == 0 && _pending.Count == 0;
        }
        catch (SocketException)
        {
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private async Task FillAsync()
    {
        var buffer = new byte[64 * 1024];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var n = await _socket.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        if (n == 0) throw new IOException($"the server closed the connection; unread: {Encoding.Latin1.GetString([.. _pending])}");
        _pending.AddRange(buffer.AsSpan(0, n));
    }

    private int IndexOf(ReadOnlySpan<byte> what) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_pending).IndexOf(what);

    private byte[] Take(int n)
    {
        var taken = _pending.GetRange(0, n).ToArray();
        _pending.RemoveRange(0, n);
        return taken;
    }

    public void Dispose() => _socket.Dispose();
}
