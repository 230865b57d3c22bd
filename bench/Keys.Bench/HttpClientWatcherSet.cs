using System.Diagnostics;
using System.Globalization;
using System.Net;

namespace Platform.Keys.Bench;

/// <summary>
/// Watchers through .NET's own HTTP stack: one <see cref="HttpClient"/> over one <see cref="SocketsHttpHandler"/>,
/// one pooled connection per concurrent watch, every response's head and body read and parsed by it. Costs the
/// driver far more CPU per watcher than <see cref="WatcherSet"/>, as many real clients do.
/// </summary>
public sealed class HttpClientWatcherSet(Target target, int count) : IWatcherSet
{
    private readonly HttpClient _client = new(new SocketsHttpHandler
    {
        UseProxy = false,
        AutomaticDecompression = DecompressionMethods.None,
        MaxConnectionsPerServer = int.MaxValue,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        PooledConnectionIdleTimeout = TimeSpan.FromMinutes(10),
    })
    { Timeout = Timeout.InfiniteTimeSpan };

    // Connection attempts in flight during the first round: 10,000 at once overflow the server's listen backlog.
    private const int OpeningParallel = 64;
    private bool _opened;

    public int Count => count;

    /// <summary>Connections open with the first round's requests (at most 64 connecting at a time) and are reused by the next rounds.</summary>
    public Task OpenAsync() => Task.CompletedTask;

    public WatchRound Start(string pathAndQuery)
    {
        var uri = new Uri(target.Url, pathAndQuery);
        var round = new WatchRound(count);
        if (_opened)
        {
            for (var i = 0; i < count; i++) _ = WatchAsync(i, uri, round, null);
        }
        else
        {
            _opened = true;
            _ = StartGatedAsync(uri, round);
        }
        return round;
    }

    private async Task StartGatedAsync(Uri uri, WatchRound round)
    {
        using var gate = new SemaphoreSlim(OpeningParallel);
        for (var i = 0; i < count; i++)
        {
            await gate.WaitAsync();
            _ = WatchAsync(i, uri, round, gate);
        }
        for (var i = 0; i < OpeningParallel; i++) await gate.WaitAsync();
    }

    private async Task WatchAsync(int i, Uri uri, WatchRound round, SemaphoreSlim? opening)
    {
        var registered = false;
        try
        {
            HttpResponseMessage head;
            try
            {
                head = await _client.GetAsync(uri, HttpCompletionOption.ResponseHeadersRead);
            }
            finally
            {
                opening?.Release();
            }
            using var response = head;
            var index = response.Headers.TryGetValues("X-Etcd-Index", out var values)
                && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : -1;
            round.Heads[i] = new ResponseHead((int)response.StatusCode, response.Content.Headers.ContentLength ?? -1,
                response.Headers.TransferEncodingChunked == true, response.Headers.ConnectionClose == true, index);
            registered = true;
            round.OneRegistered();
            var body = await response.Content.ReadAsByteArrayAsync();
            round.DoneTicks[i] = Stopwatch.GetTimestamp();
            round.Bodies[i] = body;
            if (response.Headers.ConnectionClose == true) round.CountClosedByServer();
        }
        catch (Exception e)
        {
            round.Failures[i] = e;
            if (!registered) round.OneRegistered();
        }
        finally
        {
            round.OneDone();
        }
    }

    public void Dispose() => _client.Dispose();
}
