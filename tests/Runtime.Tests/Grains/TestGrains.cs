using System.Collections.Concurrent;
using Platform.Runtime;
using Platform.Runtime.Catalog;
using Platform.Runtime.Observers;

namespace Platform.Runtime.Tests.Grains;

public sealed class CounterGrain : Grain, ICounterGrain
{
    private int _value;
    private int _inTurn;
    private int _maxInTurn;

    public async Task<int> Increment()
    {
        var now = Interlocked.Increment(ref _inTurn);
        _maxInTurn = Math.Max(_maxInTurn, now);
        var read = _value;
        await Task.Yield();
        await Task.Delay(0);
        _value = read + 1;
        Interlocked.Decrement(ref _inTurn);
        return _value;
    }

    public Task<int> Get() => Task.FromResult(_value);
    public Task<int> MaxConcurrentTurns() => Task.FromResult(_maxInTurn);
}

[Reentrant]
public sealed class ReentrantGrain : Grain, IReentrantGrain
{
    private int _arrived;
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task<int> WaitForPeers(int expected)
    {
        if (++_arrived == expected) _all.TrySetResult();
        await _all.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return _arrived;
    }
}

public sealed class InterleavingGrain : Grain, IInterleavingGrain
{
    private TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _readers;
    private readonly TaskCompletionSource _allReaders = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public async Task Block()
    {
        await _release.Task;
        _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public Task Release()
    {
        _release.TrySetResult();
        return Task.CompletedTask;
    }

    public async Task<int> ReadWhileOthersRead(int expected)
    {
        if (++_readers == expected) _allReaders.TrySetResult();
        await _allReaders.Task.WaitAsync(TimeSpan.FromSeconds(10));
        return _readers;
    }
}

public sealed class SlowGrain : Grain, ISlowGrain
{
    public Task Sleep(TimeSpan duration) => Task.Delay(duration);
    public ValueTask<string> Echo(string text) => ValueTask.FromResult(text);
    public ValueTask<string> Repeat(string text, int count) => ValueTask.FromResult(string.Concat(Enumerable.Repeat(text, count)));
}

public sealed class CountedGrain : Grain, ICountedGrain
{
    // Awaits, so that every call ends through the activation's queue and is timed (the inline path samples).
    public async ValueTask<string> Echo(string text)
    {
        await Task.Yield();
        return text;
    }

    public Task Throw(string message) => throw new InvalidOperationException(message);
}

public sealed class FailingGrain : Grain, IFailingGrain
{
    public Task Throw(string message) => throw new InvalidOperationException(message);

    public async Task<int> ThrowArgument(string name)
    {
        await Task.Yield();
        throw new ArgumentException("bad argument", name);
    }
}

public sealed class PersistentCounterGrain([PersistentState("counter")] IPersistentState<CounterState> state) : Grain, IPersistentCounterGrain
{
    public static readonly ConcurrentDictionary<string, int> ActivationsByKey = new();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        ActivationsByKey.AddOrUpdate(GetPrimaryKeyString(), 1, (_, n) => n + 1);
        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        state.State.Deactivations++;
        await state.WriteStateAsync();
    }

    public async Task<int> Add(int amount)
    {
        state.State.Value += amount;
        await state.WriteStateAsync();
        return state.State.Value;
    }

    public Task<int> Get() => Task.FromResult(state.State.Value);
    public Task<int> Deactivations() => Task.FromResult(state.State.Deactivations);

    public Task Deactivate()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }

    public Task DeactivateForStorage()
    {
        DeactivateOnIdle(new StorageUnavailableException("test storage refused a write", null));
        return Task.CompletedTask;
    }

    public Task<string?> ETag() => Task.FromResult(state.Etag);
    public Task<int> Activations() => Task.FromResult(ActivationsByKey.GetValueOrDefault(GetPrimaryKeyString()));
}

public sealed class LifecycleGrain : Grain, ILifecycleGrain
{
    public static readonly ConcurrentQueue<string> Events = new();
    private readonly string _instance = Guid.NewGuid().ToString("N");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        Events.Enqueue($"activate {GetPrimaryKeyString()}");
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        Events.Enqueue($"deactivate {GetPrimaryKeyString()} {reason}");
        return Task.CompletedTask;
    }

    public Task<string> WhoAmI() => Task.FromResult(_instance);

    public Task DeactivateMe()
    {
        DeactivateOnIdle();
        return Task.CompletedTask;
    }
}

public sealed class TimerGrain : Grain, ITimerGrain
{
    private int _ticks;
    private int _inTick;
    private int _maxConcurrent;

    public Task Start(TimeSpan period)
    {
        RegisterGrainTimer(async _ =>
        {
            _maxConcurrent = Math.Max(_maxConcurrent, Interlocked.Increment(ref _inTick));
            await Task.Delay(5);
            _ticks++;
            Interlocked.Decrement(ref _inTick);
        }, period, period);
        return Task.CompletedTask;
    }

    public Task<int> Ticks() => Task.FromResult(_ticks);
    public Task<int> MaxConcurrent() => Task.FromResult(_maxConcurrent);
}

public sealed class ReminderGrain : Grain, IReminderGrain, IRemindable
{
    public static readonly ConcurrentQueue<(string Key, string Name, DateTimeOffset At)> Ticks = new();

    public Task Register(string name, TimeSpan due, TimeSpan period) => RegisterOrUpdateReminder(name, due, period);
    public Task<bool> Unregister(string name) => UnregisterReminder(name);

    public Task ReceiveReminder(string reminderName, TickStatus status)
    {
        Ticks.Enqueue((GetPrimaryKeyString(), reminderName, status.CurrentTickTime));
        return Task.CompletedTask;
    }
}

public sealed class ChatRoomGrain : Grain, IChatRoomGrain
{
    private readonly ObserverManager<IChatObserver> _subscribers = new(TimeSpan.FromMinutes(5));

    public Task Join(IChatObserver observer)
    {
        _subscribers.Subscribe(observer);
        return Task.CompletedTask;
    }

    public Task<int> Say(string text) => Task.FromResult(_subscribers.Notify(o => o.SaidAsync(text)));

    public Task<int> Subscribers() => Task.FromResult(_subscribers.Count);
}

[StatelessWorker(4)]
public sealed class WorkerGrain : Grain, IWorkerGrain
{
    private static int s_concurrent;
    public static int MaxConcurrent;

    public async Task<int> Work(TimeSpan duration)
    {
        var now = Interlocked.Increment(ref s_concurrent);
        int seen;
        do seen = MaxConcurrent; while (now > seen && Interlocked.CompareExchange(ref MaxConcurrent, now, seen) != seen);
        await Task.Delay(duration);
        Interlocked.Decrement(ref s_concurrent);
        return now;
    }
}

public sealed class PingGrain : Grain, IPingGrain
{
    private int _fired;

    public ValueTask<int> Ping(int value) => ValueTask.FromResult(value + 1);

    public async ValueTask<int> PingAfterYield(int value)
    {
        await Task.Yield();
        return value + 1;
    }

    public Task Fire(int value)
    {
        _fired += value;
        return Task.CompletedTask;
    }

    public Task<int> Fired() => Task.FromResult(_fired);

    public async Task<int> PingOther(string key, int value) => await GrainFactory.GetGrain<IPingGrain>(key).Ping(value);
}

public sealed class ChatLoggerGrain : Grain, IChatLoggerGrain
{
    private readonly List<string> _logged = [];

    public void Said(string text) => _logged.Add(text);

    public Task SaidAsync(string text)
    {
        _logged.Add(text);
        return Task.CompletedTask;
    }

    public Task<List<string>> Logged() => Task.FromResult(_logged);
}

public sealed class TraceGrain : Grain, ITraceGrain
{
    public async Task<string> CurrentTraceId()
    {
        // After an await too: the span flows with the grain's execution context, not only its first synchronous part.
        await Task.Yield();
        return System.Diagnostics.Activity.Current?.TraceId.ToHexString() ?? "";
    }
}

public sealed class ThreadGrain : Grain, IThreadGrain
{
    /// <summary>A gate a blocking call waits at: Entered is set once the call holds its thread, which <c>Thread</c> names.</summary>
    public sealed class Gate
    {
        public TaskCompletionSource Entered { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public ManualResetEventSlim Open { get; } = new();
        public string? Thread { get; set; }
    }

    public static readonly ConcurrentDictionary<string, Gate> Gates = new();

    private readonly List<string> _recorded = [];

    private static string Current => System.Threading.Thread.CurrentThread.Name ?? "";

    public ValueTask<string> ThreadName() => ValueTask.FromResult(Current);

    public ValueTask<string> BlockOn(string gate)
    {
        var g = Gates.GetOrAdd(gate, _ => new Gate());
        g.Thread = Current;
        g.Entered.TrySetResult();
        g.Open.Wait();
        return ValueTask.FromResult(Current);
    }

    public ValueTask Record(int value)
    {
        _recorded.Add($"{value} {Current}");
        return ValueTask.CompletedTask;
    }

    public ValueTask<List<string>> Recorded() => ValueTask.FromResult(_recorded);
}
