using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Platform.Silo.Tests.Support;

/// <summary>
/// Writers that keep putting new keys through the etcd and the Consul API (even writers etcd, odd ones Consul), writer i
/// through silo i mod N: writer i's n-th write is key <c>outage/{api}/w{i}/{n}</c> = n. Records every acknowledged write,
/// every failure and every distinct error body, so a test can check that nothing acknowledged was lost and what clients
/// were told.
/// </summary>
public sealed class KeyWriteLoad : IAsyncDisposable
{
    /// <summary>An acknowledged write; times are Stopwatch timestamps.</summary>
    public sealed record Ack(string Key, long Value, long StartedAt, long CompletedAt);

    private readonly HttpClient[] _clients;
    private readonly int _writers;
    private readonly TimeSpan _pause;
    private readonly ConcurrentQueue<Ack> _acks = new();
    private readonly long[] _lastAckStartedAt;
    private readonly ConcurrentDictionary<string, int> _errorBodies = new(StringComparer.Ordinal);
    private volatile bool _stopping;
    private Task _running = Task.CompletedTask;
    private long _failures;

    public KeyWriteLoad(IReadOnlyList<int> httpPorts, int writers, TimeSpan pauseBetweenWrites)
    {
        _clients = [.. httpPorts.Select(p => new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{p}"), Timeout = TimeSpan.FromSeconds(10) })];
        _writers = writers;
        _pause = pauseBetweenWrites;
        _lastAckStartedAt = new long[writers];
        Array.Fill(_lastAckStartedAt, long.MinValue);
    }

    public long Failures => Interlocked.Read(ref _failures);

    public IReadOnlyCollection<Ack> Acknowledged => _acks;

    /// <summary>Every distinct error body (status and text) with how often it came.</summary>
    public IReadOnlyDictionary<string, int> ErrorBodies => _errorBodies;

    public void Start() => _running = Task.WhenAll(Enumerable.Range(0, _writers).Select(i => Task.Run(() => WriteLoopAsync(i))));

    public async Task StopAsync()
    {
        _stopping = true;
        await _running;
    }

    /// <summary>Waits until every writer had a write acknowledged that started at or after <paramref name="since"/>; returns how long that took from <paramref name="since"/>.</summary>
    public async Task<TimeSpan> WaitUntilEveryWriterAcknowledgedSinceAsync(long since, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var waiting = Enumerable.Range(0, _writers).Where(i => Volatile.Read(ref _lastAckStartedAt[i]) < since).ToList();
            if (waiting.Count == 0)
                return Stopwatch.GetElapsedTime(since, _acks.Where(a => a.StartedAt >= since).GroupBy(a => a.Key.Split('/')[2]).Max(g => g.Min(a => a.CompletedAt)));
            if (clock.Elapsed > timeout)
                throw new TimeoutException($"writers {string.Join(", ", waiting)} had no write acknowledged within {timeout.TotalSeconds:0} s; {Failures} failures; bodies:\n{DescribeErrors()}");
            await Task.Delay(20);
        }
    }

    public string DescribeErrors() => string.Join("\n", _errorBodies.OrderByDescending(kv => kv.Value).Take(20).Select(kv => $"  {kv.Value} x {kv.Key}"));

    /// <summary>Reads every key back through <paramref name="client"/>; returns the acknowledged writes that are missing or wrong.</summary>
    public async Task<List<string>> FindLostAsync(HttpClient client)
    {
        var stored = new Dictionary<string, string>(StringComparer.Ordinal);
        using (var etcd = JsonDocument.Parse(await client.GetStringAsync("/v2/keys/outage/etcd?recursive=true")))
            Collect(etcd.RootElement.GetProperty("node"), stored);
        using (var consul = JsonDocument.Parse(await client.GetStringAsync("/v1/kv/outage/consul/?recurse")))
            foreach (var entry in consul.RootElement.EnumerateArray())
                stored["outage/consul/" + entry.GetProperty("Key").GetString()!["outage/consul/".Length..]] =
                    Encoding.UTF8.GetString(Convert.FromBase64String(entry.GetProperty("Value").GetString() ?? ""));
        var lost = new List<string>();
        foreach (var ack in _acks)
        {
            if (!stored.TryGetValue(ack.Key, out var value)) lost.Add($"{ack.Key}={ack.Value} acknowledged but missing");
            else if (value != ack.Value.ToString(CultureInfo.InvariantCulture)) lost.Add($"{ack.Key}: acknowledged {ack.Value}, stored {value}");
        }
        return lost;
    }

    private static void Collect(JsonElement node, Dictionary<string, string> into)
    {
        if (node.TryGetProperty("nodes", out var children))
        {
            foreach (var child in children.EnumerateArray()) Collect(child, into);
        }
        else if (node.TryGetProperty("value", out var value))
        {
            into[node.GetProperty("key").GetString()!.TrimStart('/')] = value.GetString()!;
        }
    }

    public ValueTask DisposeAsync()
    {
        _stopping = true;
        foreach (var c in _clients) c.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task WriteLoopAsync(int writer)
    {
        var client = _clients[writer % _clients.Length];
        var etcd = writer % 2 == 0;
        long n = 0;
        while (!_stopping)
        {
            n++;
            var value = n.ToString(CultureInfo.InvariantCulture);
            var key = $"outage/{(etcd ? "etcd" : "consul")}/w{writer}/{value}";
            var started = Stopwatch.GetTimestamp();
            try
            {
                using var response = etcd
                    ? await client.PutAsync($"/v2/keys/{key}", new FormUrlEncodedContent([new KeyValuePair<string, string>("value", value)]))
                    : await client.PutAsync($"/v1/kv/{key}", new StringContent(value));
                var body = await response.Content.ReadAsStringAsync();
                if (response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created && (etcd || body.Trim() == "true"))
                {
                    _acks.Enqueue(new Ack(key, n, started, Stopwatch.GetTimestamp()));
                    Volatile.Write(ref _lastAckStartedAt[writer], started);
                }
                else
                {
                    Interlocked.Increment(ref _failures);
                    // Indexes differ from one error to the next; the rest of the body is what matters.
                    var shape = System.Text.RegularExpressions.Regex.Replace(body, "\"index\":[0-9]+", "\"index\":N");
                    _errorBodies.AddOrUpdate($"{(int)response.StatusCode} {shape.Trim()}", 1, (_, c) => c + 1);
                }
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
            {
                Interlocked.Increment(ref _failures);
                _errorBodies.AddOrUpdate($"no answer: {e.GetType().Name}", 1, (_, c) => c + 1);
            }
            if (_pause > TimeSpan.Zero) await Task.Delay(_pause);
        }
    }
}
