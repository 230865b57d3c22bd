using Platform.Runtime;

namespace Platform.Runtime.Tests.Grains;

public interface ICounterGrain : IGrainWithStringKey
{
    Task<int> Increment();
    Task<int> Get();
    Task<int> MaxConcurrentTurns();
}

public interface IReentrantGrain : IGrainWithStringKey
{
    Task<int> WaitForPeers(int expected);
}

public interface IInterleavingGrain : IGrainWithStringKey
{
    Task Block();
    [AlwaysInterleave] Task Release();
    [ReadOnly] Task<int> ReadWhileOthersRead(int expected);
}

public interface ISlowGrain : IGrainWithStringKey
{
    Task Sleep(TimeSpan duration);
    ValueTask<string> Echo(string text);
    ValueTask<string> Repeat(string text, int count);
}

public interface IFailingGrain : IGrainWithStringKey
{
    Task Throw(string message);
    Task<int> ThrowArgument(string name);
}

/// <summary>Called by the statistics test alone: its counts are the process's, and no other test may add to them.</summary>
public interface ICountedGrain : IGrainWithStringKey
{
    ValueTask<string> Echo(string text);
    Task Throw(string message);
}

public class CounterState
{
    public int Value { get; set; }
    public int Deactivations { get; set; }
}

public interface IPersistentCounterGrain : IGrainWithStringKey
{
    Task<int> Add(int amount);
    Task<int> Get();
    Task<int> Deactivations();
    Task Deactivate();
    Task DeactivateForStorage();
    Task<string?> ETag();
    Task<int> Activations();
}

public interface ILifecycleGrain : IGrainWithStringKey
{
    Task<string> WhoAmI();
    Task DeactivateMe();
}

public interface ITimerGrain : IGrainWithStringKey
{
    Task Start(TimeSpan period);
    Task<int> Ticks();
    Task<int> MaxConcurrent();
}

public interface IReminderGrain : IGrainWithStringKey
{
    Task Register(string name, TimeSpan due, TimeSpan period);
    Task<bool> Unregister(string name);
}

public interface IChatObserver : IGrainObserver
{
    void Said(string text);
    Task SaidAsync(string text);
}

public interface IChatRoomGrain : IGrainWithStringKey
{
    Task Join(IChatObserver observer);
    Task<int> Say(string text);
    Task<int> Subscribers();
}

public interface IWorkerGrain : IGrainWithStringKey
{
    Task<int> Work(TimeSpan duration);
}

public interface IPingGrain : IGrainWithStringKey
{
    ValueTask<int> Ping(int value);
    ValueTask<int> PingAfterYield(int value);
    [OneWay] Task Fire(int value);
    Task<int> Fired();
    Task<int> PingOther(string key, int value);
}

public interface IChatLoggerGrain : IGrainWithStringKey, IChatObserver
{
    Task<List<string>> Logged();
}

public interface ITraceGrain : IGrainWithStringKey
{
    /// <summary>The trace id of the activity current in the grain's code, or "" when none is.</summary>
    Task<string> CurrentTraceId();
}

/// <summary>Says which thread its calls ran on; every method completes synchronously.</summary>
public interface IThreadGrain : IGrainWithStringKey
{
    ValueTask<string> ThreadName();

    /// <summary>Blocks its thread until the test opens the gate named <paramref name="gate"/> (see ThreadGrain.Gates).</summary>
    ValueTask<string> BlockOn(string gate);

    /// <summary>Appends <paramref name="value"/> and the thread's name to the grain's record.</summary>
    ValueTask Record(int value);

    ValueTask<List<string>> Recorded();
}
