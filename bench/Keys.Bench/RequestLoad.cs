using System.Diagnostics;

namespace Platform.Keys.Bench;

/// <summary>One closed-loop load: throughput, latency of each request, CPU during the window.</summary>
public sealed record LoadResult(string Workload, int Clients, double Seconds, long Requests, Percentiles Latency, CpuUse Cpu, long Reconnects, long DriverAllocated)
{
    public double PerSecond => Requests / Seconds;
}

/// <summary>
/// N clients, each on its own keep-alive connection, send requests back to back. Requests that end within the
/// measured window (after the warm-up) count; every reply's status is checked, and each client's first reply (and
/// one in 4,096 after it) is checked against what the request must return.
/// </summary>
public static class RequestLoad
{
    private const int CheckEvery = 4096;

    /// <summary>Checks a reply to requests[index]; returns a description of what is wrong, or null.</summary>
    public delegate string? ReplyCheck(int index, ResponseHead head, ReadOnlySpan<byte> body);

    public static async Task<LoadResult> RunAsync(Target target, string workload, int clients, byte[][] requests, ReplyCheck check, TimeSpan warmup, TimeSpan window)
    {
        var errors = new ErrorTally($"{target.Name}, {workload}");
        var connections = await OpenAsync(target, clients);
        var t0 = Stopwatch.GetTimestamp();
        var measureStart = t0 + (long)(warmup.TotalSeconds * Stopwatch.Frequency);
        var measureEnd = measureStart + (long)(window.TotalSeconds * Stopwatch.Frequency);
        var loops = new Task<ClientResult>[clients];
        for (var c = 0; c < clients; c++)
        {
            var client = c;
            loops[c] = Task.Run(() => ClientAsync(target, connections[client], client, clients, requests, check, measureStart, measureEnd, errors));
        }

        CpuSnapshot before = default, after = default;
        long allocated = 0;
        try
        {
            await Task.Delay(Until(measureStart), errors.Raised);
            before = CpuSnapshot.Take(target.Pid);
            allocated = GC.GetTotalAllocatedBytes();
            await Task.Delay(Until(measureEnd), errors.Raised);
            after = CpuSnapshot.Take(target.Pid);
            allocated = GC.GetTotalAllocatedBytes() - allocated;
        }
        catch (OperationCanceledException) { } // an error: the loops stop, and ThrowIfAny below reports it
        var results = await Task.WhenAll(loops);
        target.EnsureAlive();
        errors.ThrowIfAny();

        var latency = new LatencyHistogram();
        long count = 0, reconnects = 0;
        foreach (var r in results)
        {
            latency.Add(r.Latency);
            count += r.Count;
            reconnects += r.Reconnects;
        }
        return new LoadResult(workload, clients, window.TotalSeconds, count, latency.Measured(), CpuSnapshot.Between(before, after), reconnects, allocated);
    }

    /// <summary>The time left until a Stopwatch timestamp; zero once it has passed.</summary>
    private static TimeSpan Until(long timestamp)
    {
        var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), timestamp);
        return left > TimeSpan.Zero ? left : TimeSpan.Zero;
    }

    private sealed record ClientResult(LatencyHistogram Latency, long Count, long Reconnects);

    private static async Task<ClientResult> ClientAsync(Target target, HttpConnection? conn, int client, int clients, byte[][] requests,
        ReplyCheck check, long measureStart, long measureEnd, ErrorTally errors)
    {
        var latency = new LatencyHistogram();
        long count = 0, reconnects = 0, sent = 0;
        var next = client;
        try
        {
            while (true)
            {
                var start = Stopwatch.GetTimestamp();
                if (start >= measureEnd || errors.Raised.IsCancellationRequested) break;
                if (conn is null)
                {
                    conn = await target.ConnectAsync();
                    reconnects++;
                }
                var index = next % requests.Length;
                next += clients;
                await conn.SendAsync(requests[index]);
                var head = await conn.ReadHeadAsync();
                var body = await conn.ReadBodyAsync(head);
                var end = Stopwatch.GetTimestamp();
                if (!head.IsSuccess)
                {
                    errors.Non2xx(head, body.Span);
                    break; // one client's error already fails the run; do not flood the server with more
                }
                if (sent++ % CheckEvery == 0 && check(index, head, body.Span) is { } wrong)
                {
                    errors.WrongAnswer(wrong);
                    break;
                }
                if (end >= measureStart && end < measureEnd)
                {
                    latency.Record(end - start);
                    count++;
                }
                if (head.Close)
                {
                    conn.Dispose();
                    conn = null;
                }
            }
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
        {
            errors.Failed(e);
        }
        finally
        {
            conn?.Dispose();
        }
        return new ClientResult(latency, count, reconnects);
    }

    /// <summary>Opens <paramref name="count"/> connections, a few at a time (servers' listen backlogs are short).</summary>
    public static async Task<HttpConnection[]> OpenAsync(Target target, int count, int parallel = 64)
    {
        var connections = new HttpConnection[count];
        using var gate = new SemaphoreSlim(parallel);
        var opening = new Task[count];
        for (var i = 0; i < count; i++)
        {
            var index = i;
            await gate.WaitAsync();
            opening[i] = OpenOneAsync(index);
        }
        try
        {
            await Task.WhenAll(opening);
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            foreach (var c in connections) c?.Dispose();
            throw new BenchFailure($"{target.Name}: could not open {count:N0} connections to {target.Url} ({e.Message})");
        }
        return connections;

        async Task OpenOneAsync(int index)
        {
            try
            {
                using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
                connections[index] = await target.ConnectAsync(cts.Token);
            }
            finally
            {
                gate.Release();
            }
        }
    }

    /// <summary>PUTs each of <paramref name="requests"/> once (e.g. the keys a GET load reads), checking every reply.</summary>
    public static async Task PopulateAsync(Target target, byte[][] requests, ReplyCheck check, int parallel = 16)
    {
        var errors = new ErrorTally($"{target.Name}, writing the keys to read");
        var connections = await OpenAsync(target, parallel);
        await Task.WhenAll(Enumerable.Range(0, parallel).Select(c => Task.Run(async () =>
        {
            var conn = connections[c];
            try
            {
                for (var i = c; i < requests.Length; i += parallel)
                {
                    await conn.SendAsync(requests[i]);
                    var (head, body) = await conn.ReadResponseAsync();
                    if (!head.IsSuccess) errors.Non2xx(head, body.Span);
                    else if (check(i, head, body.Span) is { } wrong) errors.WrongAnswer(wrong);
                    if (head.Close) throw new IOException("the server closed a keep-alive connection (Connection: close)");
                }
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or InvalidDataException)
            {
                errors.Failed(e);
            }
            finally
            {
                conn.Dispose();
            }
        })));
        errors.ThrowIfAny();
    }
}
