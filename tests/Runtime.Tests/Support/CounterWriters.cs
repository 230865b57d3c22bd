using System.Collections.Concurrent;
using Platform.Runtime.Tests.Grains;

namespace Platform.Runtime.Tests.Support;

/// <summary>
/// Writers that keep adding 1 to 80 persistent counters through one silo while a cluster changes under them:
/// they record every acknowledged value and every failed call, so a test can check that none failed and
/// that what was acknowledged is what is stored.
/// </summary>
public sealed class CounterWriters : IAsyncDisposable
{
    private readonly string _prefix;
    private readonly CancellationTokenSource _stop = new();
    private readonly List<Task> _writers;
    private long _calls;

    public CounterWriters(Func<IGrainFactory> via, string prefix, int writers = 8)
    {
        _prefix = prefix;
        _writers = [.. Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
        {
            for (var n = 0; !_stop.IsCancellationRequested; n++)
            {
                var key = w * 100 + n % 10;
                try
                {
                    var value = await via().GetGrain<IPersistentCounterGrain>($"{prefix}-{key}").Add(1);
                    Acknowledged.AddOrUpdate(key, value, (_, old) => Math.Max(old, value));
                    Interlocked.Increment(ref _calls);
                }
                catch (Exception e)
                {
                    Failures.Enqueue(e);
                }
            }
        }))];
    }

    public ConcurrentQueue<Exception> Failures { get; } = new();
    public ConcurrentDictionary<int, int> Acknowledged { get; } = new();

    /// <summary>Waits until every counter has been acknowledged once.</summary>
    public Task AllAnsweredAsync() => TestCluster.WaitUntilAsync(() => Acknowledged.Count == 10 * _writers.Count, TimeSpan.FromSeconds(20), "every grain to answer once");

    /// <summary>Waits until the writers made progress (a phase lasts until then, not for a fixed time).</summary>
    public Task ProgressAsync(string phase)
    {
        var from = Volatile.Read(ref _calls);
        return TestCluster.WaitUntilAsync(() => Volatile.Read(ref _calls) >= from + 200, TimeSpan.FromSeconds(20), $"200 more acknowledged calls {phase}");
    }

    /// <summary>Stops the writers, then asserts that no call failed and that every acknowledged value is stored.</summary>
    public async Task StopAndCheckAsync(IGrainFactory reader)
    {
        await DisposeAsync();
        Assert.True(Failures.IsEmpty, $"{Failures.Count} failed calls, first: {Failures.FirstOrDefault()}");
        foreach (var (key, value) in Acknowledged)
            Assert.Equal(value, await reader.GetGrain<IPersistentCounterGrain>($"{_prefix}-{key}").Get());
    }

    /// <summary>Stops the writers (a test that failed half way must not leave them calling a disposed cluster).</summary>
    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        await Task.WhenAll(_writers);
    }
}
