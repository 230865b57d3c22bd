using Platform.Runtime;

namespace Platform.Cluster.Bench;

/// <summary>A grain that does nothing, so a cross-silo call measures the runtime and the transport.</summary>
public interface IEchoGrain : IGrainWithStringKey
{
    /// <summary>Completes synchronously.</summary>
    ValueTask<int> Ping(int value);

    /// <summary>Awaits <see cref="Task.Yield"/> first: the call goes on from the thread pool, and so does its response.</summary>
    ValueTask<int> PingYield(int value);

    /// <summary>The id of the process hosting the activation: tells the driver which silo owns the key.</summary>
    Task<int> Pid();
}

public sealed class EchoGrain : Grain, IEchoGrain
{
    public ValueTask<int> Ping(int value) => ValueTask.FromResult(value + 1);

    public async ValueTask<int> PingYield(int value)
    {
        await Task.Yield();
        return value + 1;
    }

    public Task<int> Pid() => Task.FromResult(Environment.ProcessId);
}
