using BenchmarkDotNet.Attributes;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Bench;

/// <summary>BenchmarkDotNet view of one sequential caller: mean cost and allocations per call.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class CallMicroBenchmarks
{
    private BenchSilo _silo = null!;
    private IPingGrain _grain = null!;

    [GlobalSetup]
    public void Setup()
    {
        _silo = BenchSilo.StartAsync(s => s.AddMemoryGrainStorage()).GetAwaiter().GetResult();
        _grain = _silo.Factory.GetGrain<IPingGrain>("micro");
        _grain.Ping(0).AsTask().GetAwaiter().GetResult();
    }

    [GlobalCleanup]
    public void Cleanup() => _silo.DisposeAsync().AsTask().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, Description = "ValueTask<int> Ping (sync)")]
    public int Ping()
    {
        var t = _grain.Ping(1);
        return t.IsCompletedSuccessfully ? t.Result : t.AsTask().GetAwaiter().GetResult();
    }

    [Benchmark(Description = "Task<int> PingTask (sync)")]
    public int PingTask() => _grain.PingTask(1).GetAwaiter().GetResult();

    [Benchmark(Description = "PingYield (queued, blocking wait)")]
    public int PingYield() => _grain.PingYield(1).AsTask().GetAwaiter().GetResult();

    [Benchmark(Description = "GetGrain<IPingGrain>(key) (reference only)")]
    public object GetGrain() => _silo.Factory.GetGrain<IPingGrain>("micro");
}
