using Platform.Runtime;

namespace Platform.Runtime.Bench;

/// <summary>Grains whose methods do (almost) nothing, so a call measures the runtime's cost.</summary>
public interface IPingGrain : IGrainWithStringKey
{
    /// <summary>Completes synchronously (the inline fast path).</summary>
    ValueTask<int> Ping(int value);

    /// <summary>Completes synchronously, Task-returning.</summary>
    Task<int> PingTask(int value);

    /// <summary>Awaits <c>Task.Yield()</c> inside the grain: the continuation goes through the activation's queue.</summary>
    ValueTask<int> PingYield(int value);
}

public sealed class PingGrain : Grain, IPingGrain
{
    public ValueTask<int> Ping(int value) => ValueTask.FromResult(value + 1);

    public Task<int> PingTask(int value) => Task.FromResult(value + 1);

    public async ValueTask<int> PingYield(int value)
    {
        await Task.Yield();
        return value + 1;
    }
}

public sealed class WriterState
{
    public long Counter { get; set; }
    public string Payload { get; set; } = "";
}

public interface IWriterGrain : IGrainWithStringKey
{
    /// <summary>Mutates the state and writes it durably; returns once the write is durable.</summary>
    Task<long> Write(long value);
}

public sealed class WriterGrain([PersistentState("bench")] IPersistentState<WriterState> state) : Grain, IWriterGrain
{
    /// <summary>64 ASCII characters, so a stored record is about 100 bytes of JSON.</summary>
    public const string Payload = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public async Task<long> Write(long value)
    {
        state.State.Counter = value;
        state.State.Payload = Payload;
        await state.WriteStateAsync();
        return value;
    }
}

/// <summary>Same shape as <see cref="IPingGrain"/> but a distinct interface, so its calls update distinct per-method statistics.</summary>
public interface IPongGrain : IGrainWithStringKey
{
    ValueTask<int> Ping(int value);
}

public sealed class PongGrain : Grain, IPongGrain
{
    public ValueTask<int> Ping(int value) => ValueTask.FromResult(value + 1);
}
