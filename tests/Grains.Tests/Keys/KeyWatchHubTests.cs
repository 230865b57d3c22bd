using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Platform.Grains.Keys;
using Platform.Runtime;

namespace Platform.Grains.Tests.Keys;

/// <summary>
/// The hub's bookkeeping of waiting watches, against a keyspace stand-in that only answers the subscription (the
/// process and cluster tests run the real grain): a watch leaves the hub when it fires and when its client goes away.
/// </summary>
public sealed class KeyWatchHubTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);
    private readonly KeyStore _store;
    private readonly OneKeyspace _keyspace;
    private readonly KeyWatchHub _hub;

    public KeyWatchHubTests()
    {
        _store = new KeyStore();
        _keyspace = new OneKeyspace(_store);
        _hub = new(_keyspace, Options.Create(new KeyspaceOptions()), NullLogger<KeyWatchHub>.Instance);
    }

    public async Task InitializeAsync()
    {
        await _hub.StartAsync(CancellationToken.None);
        await _hub.Ready.WaitAsync(Wait);
    }

    public async Task DisposeAsync()
    {
        await _hub.StopAsync(CancellationToken.None);
        _hub.Dispose();
    }

    [Fact]
    public async Task A_watch_whose_client_goes_away_leaves_the_hub_and_ends_empty()
    {
        using var client = new CancellationTokenSource();
        using var gone = await _hub.WatchAsync("/k", recursive: false, waitIndex: 0);
        using var stays = await _hub.WatchAsync("/k", recursive: false, waitIndex: 0);
        gone.EndWhen(client.Token);
        Assert.Equal(2, _hub.WatchCount);

        await client.CancelAsync();

        Assert.Null(await gone.Event.WaitAsync(Wait));
        Assert.Equal(1, _hub.WatchCount);
        await _hub.OnEvents(new KeyEventBatch([_store.Set("/k", "v")]));
        var woken = await stays.Event.WaitAsync(Wait);
        Assert.Equal("v", woken!.Event.Node.Value);
        Assert.Equal(0, _hub.WatchCount);
    }

    [Fact]
    public async Task A_watch_ended_by_a_token_that_is_already_cancelled_never_waits()
    {
        using var watch = await _hub.WatchAsync("/k", recursive: false, waitIndex: 0);
        watch.EndWhen(new CancellationToken(canceled: true));

        Assert.True(watch.Event.IsCompleted);
        Assert.Null(await watch.Event);
        Assert.Equal(0, _hub.WatchCount);
    }

    [Fact]
    public async Task Inline_handlers_run_once_each_on_the_wake_threads_below_normal_priority_with_the_shared_event()
    {
        const int count = 1000;
        var runs = new int[count];
        var events = new KeyWatchEvent?[count];
        // Each handler thread's name and nice value, read once per thread from the kernel's own account.
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, (string? Name, int Nice)>();
        using var all = new CountdownEvent(count);
        var watches = new List<KeyWatch>();
        for (var i = 0; i < count; i++)
        {
            var watch = await _hub.WatchAsync("/fan", recursive: false, waitIndex: 0);
            watch.OnCompleted((e, state) =>
            {
                var n = (int)state!;
                Interlocked.Increment(ref runs[n]);
                events[n] = e;
                threads.GetOrAdd(Environment.CurrentManagedThreadId, _ => (Thread.CurrentThread.Name, ThreadNice()));
                all.Signal();
            }, i);
            watches.Add(watch);
        }

        var delivering = Environment.CurrentManagedThreadId;
        await _hub.OnEvents(new KeyEventBatch([_store.Set("/fan", "v")]));

        Assert.True(all.Wait(Wait), $"{all.CurrentCount} handlers did not run");
        Assert.All(runs, r => Assert.Equal(1, r));
        Assert.All(events, e => Assert.Same(events[0], e));
        Assert.Equal("v", events[0]!.Event.Node.Value);
        Assert.DoesNotContain(delivering, threads.Keys);
        Assert.All(threads.Values, t => Assert.Equal("key-wake", t.Name));
        // Below the priority of the thread that delivered (and of the pool's, which answer writers).
        if (OperatingSystem.IsLinux()) Assert.All(threads.Values, t => Assert.True(t.Nice > ThreadNice(), $"a wake thread runs at nice {t.Nice}, not below the test thread's {ThreadNice()}"));
        // Ending them afterwards runs nothing again.
        foreach (var watch in watches) watch.Dispose();
        Assert.All(runs, r => Assert.Equal(1, r));
    }

    [Fact]
    public async Task Handlers_on_a_wake_thread_see_its_batch_flushed_after_each_chunk_and_handlers_elsewhere_see_none()
    {
        const int count = 300;
        var seen = new (CountingBatch? Batch, int Flushes)[count];
        using var all = new CountdownEvent(count);
        var watches = new List<KeyWatch>();
        WakeBatch.Factory = static () => new CountingBatch();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var watch = await _hub.WatchAsync("/batched", recursive: false, waitIndex: 0);
                watch.OnCompleted((_, state) =>
                {
                    var batch = WakeBatch.Current as CountingBatch;
                    if (batch is not null) batch.Handled++;
                    seen[(int)state!] = (batch, batch?.Flushes ?? -1);
                    all.Signal();
                }, i);
                watches.Add(watch);
            }

            await _hub.OnEvents(new KeyEventBatch([_store.Set("/batched", "v")]));

            Assert.True(all.Wait(Wait), $"{all.CurrentCount} handlers did not run");
            Assert.All(seen, s => Assert.NotNull(s.Batch));
            // Each handler's chunk is flushed after it ran, on the same thread; a chunk holds at most 64 watches.
            foreach (var (batch, flushes) in seen)
                Assert.True(SpinWait.SpinUntil(() => Volatile.Read(ref batch!.Flushes) > flushes, Wait), "a chunk's batch was not flushed after its handlers");
            Assert.All(seen, s => Assert.InRange(s.Batch!.MostInAChunk, 1, 64));

            // A handler that runs on the thread that sets it (the watch had completed already) sees no batch.
            using var late = await _hub.WatchAsync("/batched", recursive: false, waitIndex: _hub.LastIndex);
            var lateBatch = (IWakeBatch?)new CountingBatch();
            late.OnCompleted((_, _) => lateBatch = WakeBatch.Current, null);
            Assert.Null(lateBatch);
        }
        finally
        {
            WakeBatch.Factory = null;
            foreach (var watch in watches) watch.Dispose();
        }
    }

    [Fact]
    public async Task A_batch_factory_that_throws_leaves_the_wake_threads_completing_watches_without_a_batch()
    {
        var watches = new List<KeyWatch>();
        var batches = new System.Collections.Concurrent.ConcurrentBag<IWakeBatch?>();
        WakeBatch.Factory = static () => throw new InvalidOperationException("a factory that fails");
        try
        {
            for (var i = 0; i < 200; i++)
            {
                var watch = await _hub.WatchAsync("/no-batch", recursive: false, waitIndex: 0);
                watch.OnCompleted((_, _) => batches.Add(WakeBatch.Current), null);
                watches.Add(watch);
            }

            await _hub.OnEvents(new KeyEventBatch([_store.Set("/no-batch", "v")]));

            foreach (var watch in watches) Assert.Equal("v", (await watch.Event.WaitAsync(Wait))!.Event.Node.Value);
            // A watch's waiter hears before its handler runs.
            Assert.True(SpinWait.SpinUntil(() => batches.Count == 200, Wait), $"{batches.Count} of 200 handlers ran");
            Assert.All(batches, Assert.Null);
        }
        finally
        {
            WakeBatch.Factory = null;
            foreach (var watch in watches) watch.Dispose();
        }
    }

    /// <summary>A wake thread's batch that counts its flushes and the handlers that used it in between.</summary>
    private sealed class CountingBatch : IWakeBatch
    {
        public int Handled;
        public int Flushes;
        public int MostInAChunk;

        public void Flush()
        {
            MostInAChunk = Math.Max(MostInAChunk, Handled);
            Handled = 0;
            Interlocked.Increment(ref Flushes);
        }

        public void Dispose()
        {
        }
    }

    [Fact]
    public async Task A_waiter_that_asks_for_the_event_while_the_fan_out_completes_the_watch_always_gets_it()
    {
        // The task behind Event is made only when asked for: asked for on another thread while the wake threads
        // complete the watch, it must still complete, with the event, in every round.
        const int rounds = 200, perRound = 64;
        for (var round = 0; round < rounds; round++)
        {
            var watches = new KeyWatch[perRound];
            for (var i = 0; i < perRound; i++) watches[i] = await _hub.WatchAsync("/race", recursive: false, waitIndex: 0);
            using var start = new ManualResetEventSlim();
            var asking = Task.Run(() =>
            {
                start.Wait();
                return watches.Select(w => w.Event).ToArray();
            });
            start.Set();
            await _hub.OnEvents(new KeyEventBatch([_store.Set("/race", $"v{round}")]));
            foreach (var (task, i) in (await asking).Select((t, i) => (t, i)))
            {
                var woken = await task.WaitAsync(Wait);
                Assert.True(woken is not null, $"round {round}: watch {i} ended without the event");
                Assert.Equal($"v{round}", woken.Event.Node.Value);
                Assert.Same(task, watches[i].Event);
            }
            foreach (var watch in watches) watch.Dispose();
        }
    }

    [Fact]
    public async Task A_handler_that_throws_still_completes_the_watch_for_a_waiter()
    {
        using var watch = await _hub.WatchAsync("/throws", recursive: false, waitIndex: 0);
        var waiting = watch.Event;
        watch.OnCompleted(static (_, _) => throw new InvalidOperationException("a handler that fails"), null);

        await _hub.OnEvents(new KeyEventBatch([_store.Set("/throws", "v")]));

        Assert.Equal("v", (await waiting.WaitAsync(Wait))!.Event.Node.Value);
    }

    /// <summary>The calling thread's nice value, field 19 of /proc/thread-self/stat (-1 where there is none).</summary>
    private static int ThreadNice()
    {
        if (!OperatingSystem.IsLinux()) return -1;
        var stat = File.ReadAllText("/proc/thread-self/stat");
        // Fields after the command name, which is in parentheses and may hold spaces: state is field 3, nice 19.
        return int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[19 - 3], System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public async Task An_inline_handler_set_after_the_watch_completed_runs_at_once_and_a_disposed_watch_runs_it_with_null()
    {
        await _hub.OnEvents(new KeyEventBatch([_store.Set("/late", "one")]));
        using var found = await _hub.WatchAsync("/late", recursive: false, waitIndex: _hub.LastIndex);
        KeyWatchEvent? seen = null;
        var runs = 0;
        found.OnCompleted((e, _) =>
        {
            seen = e;
            runs++;
        }, null);
        Assert.Equal(1, runs);
        Assert.Equal("one", seen!.Event.Node.Value);

        var ended = await _hub.WatchAsync("/late", recursive: false, waitIndex: 0);
        var endedRuns = 0;
        KeyWatchEvent? endedWith = new(seen.Event);
        ended.OnCompleted((e, _) =>
        {
            endedWith = e;
            endedRuns++;
        }, null);
        Assert.Equal(0, endedRuns);
        ended.Dispose();
        ended.Dispose();
        Assert.Equal(1, endedRuns);
        Assert.Null(endedWith);
        Assert.Equal(0, _hub.WatchCount);
    }

    [Fact]
    public async Task Watches_on_one_key_that_differ_are_woken_one_by_one_and_only_when_they_match()
    {
        var now = _hub.LastIndex;
        var plain = new List<KeyWatch>();
        for (var i = 0; i < 3; i++) plain.Add(await _hub.WatchAsync("/m", recursive: false, waitIndex: 0));
        using var later = await _hub.WatchAsync("/m", recursive: false, waitIndex: now + 3);
        using var etcd = await _hub.WatchAsync("/h", recursive: true, waitIndex: 0);
        using var consul = await _hub.WatchAsync("/h", recursive: true, waitIndex: 0, includeHidden: true);
        using var filtered = await _hub.WatchAsync("/h", recursive: true, waitIndex: 0, filter: e => e.Node.Key.EndsWith('y'));
        Assert.Equal(7, _hub.WatchCount);

        await _hub.OnEvents(new KeyEventBatch([_store.Set("/m", "1")]));
        foreach (var w in plain) Assert.Equal("1", (await w.Event.WaitAsync(Wait))!.Event.Node.Value);
        Assert.False(later.Event.IsCompleted);
        Assert.Equal(4, _hub.WatchCount);
        foreach (var w in plain) w.Dispose();
        Assert.Equal(4, _hub.WatchCount);

        await _hub.OnEvents(new KeyEventBatch([_store.Set("/h/_hidden", "x")]));
        Assert.Equal("/h/_hidden", (await consul.Event.WaitAsync(Wait))!.Event.Node.Key);
        await _hub.OnEvents(new KeyEventBatch([_store.Set("/m", "3"), _store.Set("/h/y", "y")]));
        Assert.Equal("3", (await later.Event.WaitAsync(Wait))!.Event.Node.Value);
        Assert.Equal("/h/y", (await etcd.Event.WaitAsync(Wait))!.Event.Node.Key);
        Assert.Equal("/h/y", (await filtered.Event.WaitAsync(Wait))!.Event.Node.Key);
        Assert.Equal(0, _hub.WatchCount);
    }

    [Fact]
    public void A_watched_event_is_rendered_once_for_every_watcher_it_wakes()
    {
        var e = new KeyWatchEvent(_store.Set("/render", "v"));
        var renders = 0;
        var first = e.Rendered(x => new RenderedValue(x.Node.Value!, ++renders));
        var second = e.Rendered(x => new RenderedValue(x.Node.Value!, ++renders));
        Assert.Same(first, second);
        Assert.Equal(("v", 1), (first.Value, renders));
    }

    private sealed record RenderedValue(string Value, int Render);

    [Fact]
    public async Task A_woken_watch_is_out_of_the_hub_before_its_owner_disposes_it()
    {
        using var client = new CancellationTokenSource();
        var watches = new List<KeyWatch>();
        for (var i = 0; i < 100; i++)
        {
            var watch = await _hub.WatchAsync("/d", recursive: true, waitIndex: 0);
            watch.EndWhen(client.Token);
            watches.Add(watch);
        }

        await _hub.OnEvents(new KeyEventBatch([_store.Set("/d/x", "one")]));

        Assert.Equal(0, _hub.WatchCount);
        foreach (var watch in watches) Assert.Equal("/d/x", (await watch.Event.WaitAsync(Wait))!.Event.Node.Key);
        // Ending them afterwards (the client leaving once answered) changes nothing.
        await client.CancelAsync();
        foreach (var watch in watches) watch.Dispose();
        Assert.Equal(0, _hub.WatchCount);
    }

    [Fact]
    public async Task A_watch_without_waitIndex_starts_after_the_keyspace_index_though_the_hub_has_not_heard_of_the_writes()
    {
        // Writes the keyspace answered, whose events have not reached this hub (they went out to another silo's client).
        _store.Set("/past", "1");
        _store.Set("/past", "2");
        var answered = _store.Set("/past", "3").Index;
        Assert.True(_hub.LastIndex < answered);

        using var watch = await _hub.WatchAsync("/past", recursive: false, waitIndex: 0);

        Assert.Equal(answered, watch.StartIndex);
        Assert.False(watch.Event.IsCompleted);
        // The read caught the hub up: the events before the watch are in its history, and a late delivery of them wakes nothing.
        Assert.Equal(answered, _hub.LastIndex);
        using (var fromHistory = await _hub.WatchAsync("/past", recursive: false, waitIndex: answered - 1))
            Assert.Equal("2", (await fromHistory.Event.WaitAsync(Wait))!.Event.Node.Value);
        await _hub.OnEvents(new KeyEventBatch([_store.History[0]]));
        Assert.False(watch.Event.IsCompleted);
        await _hub.OnEvents(new KeyEventBatch([_store.Set("/past", "4")]));
        Assert.Equal("4", (await watch.Event.WaitAsync(Wait))!.Event.Node.Value);
    }

    [Fact]
    public async Task A_write_the_hub_does_not_see_within_the_bound_is_answered_anyway_and_counted()
    {
        var unseen = _hub.LastIndex + 5;
        var sw = System.Diagnostics.Stopwatch.StartNew();

        await _hub.WaitSeenAsync(unseen).WaitAsync(Wait);

        Assert.True(sw.Elapsed >= KeyWatchHub.SeenWait * 0.9, $"answered after {sw.Elapsed}");
        Assert.Equal(1, _hub.SeenTimeouts);
        // A write the hub has seen costs no wait and counts nothing.
        await _hub.OnEvents(new KeyEventBatch([_store.Set("/seen", "v")]));
        Assert.True(_hub.WaitSeenAsync(_hub.LastIndex).IsCompletedSuccessfully);
        Assert.Equal(1, _hub.SeenTimeouts);
    }

    /// <summary>
    /// The keyspace as the hub sees it, over a store: the subscription answers the store's index and the events after
    /// the hub's, as the grain does.
    /// </summary>
    private static KeyResult Refused(bool notApplied) => new()
    {
        ErrorCode = KeyErrorCode.RaftInternal,
        ErrorCause = "keyspace default is recovering: journal 'keyspace/default': append at 1 by epoch 1 refused: current epoch 2",
        NotApplied = notApplied,
    };

    [Fact]
    public async Task A_request_the_keyspace_refused_before_storing_anything_is_sent_again_until_it_is_stored()
    {
        var stored = new KeyResult { Event = _store.Set("/k", "v"), Term = 3 };
        _keyspace.Answers.AddRange([Refused(notApplied: true), Refused(notApplied: true), stored]);

        var result = await _hub.ExecuteAsync(new KeyRequest { Op = KeyOp.Set, Key = "/k", Value = "v" });

        Assert.Same(stored, result);
        Assert.Equal(3, _keyspace.Executed);
    }

    [Fact]
    public async Task A_request_refused_unapplied_every_time_gets_the_refusal_after_a_bounded_number_of_tries()
    {
        _keyspace.Answers.Add(Refused(notApplied: true));

        var result = await _hub.ExecuteAsync(new KeyRequest { Op = KeyOp.Set, Key = "/k", Value = "v" });

        Assert.True(result.NotApplied);
        Assert.Equal(KeyErrorCode.RaftInternal, result.ErrorCode);
        Assert.Equal(6, _keyspace.Executed);
    }

    [Fact]
    public async Task A_failure_that_may_have_stored_the_request_is_answered_as_it_is_never_sent_again()
    {
        _keyspace.Answers.Add(Refused(notApplied: false));

        var result = await _hub.ExecuteAsync(new KeyRequest { Op = KeyOp.Set, Key = "/k", Value = "v" });

        Assert.False(result.NotApplied);
        Assert.Equal(1, _keyspace.Executed);
    }

    private sealed class OneKeyspace(KeyStore store) : IGrainFactory, IKeyspaceGrain
    {
        public TGrain GetGrain<TGrain>(string key) where TGrain : IGrainWithStringKey => (TGrain)(object)this;

        public TObserver CreateObjectReference<TObserver>(TObserver observer) where TObserver : class, IGrainObserver => observer;

        public void DeleteObjectReference<TObserver>(TObserver reference) where TObserver : class, IGrainObserver
        {
        }

        /// <summary>Answers <see cref="Execute"/> gives, in order; the last one repeats.</summary>
        public List<KeyResult> Answers { get; } = [];

        public int Executed { get; private set; }

        public Task<KeyResult> Execute(KeyRequest request)
        {
            if (Answers.Count == 0) throw new NotSupportedException("no answer scripted");
            return Task.FromResult(Answers[Math.Min(Executed++, Answers.Count - 1)]);
        }

        public Task<KeyResult> ScanHistory(string key, bool recursive, ulong sinceIndex, bool includeHidden) => throw new NotSupportedException("not needed here");

        public Task<KeyspaceCatchUp> Subscribe(IKeyspaceObserver observer, ulong afterIndex)
        {
            var history = store.History;
            var missed = new List<KeyEvent>();
            for (var i = 0; i < history.Count; i++)
                if (history[i].Index > afterIndex) missed.Add(history[i]);
            return Task.FromResult(new KeyspaceCatchUp(store.CurrentIndex, missed, cleared: false, term: 1));
        }
    }
}
