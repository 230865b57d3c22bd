using System.Collections.Concurrent;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Storage;

/// <summary>
/// Group commit as a grain uses it: every caller on one activation's turns (here a single-threaded context), writes
/// released by hand so the callers provably meet while one is in flight.
/// </summary>
public sealed class GroupCommitTests
{
    [Fact]
    public void A_hundred_changes_made_while_a_write_is_in_flight_share_the_next_write()
    {
        OnOneThread(async () =>
        {
            var (commit, writes) = HeldWrites();
            var callers = Enumerable.Range(0, 100).Select(_ => commit.CommitAsync()).ToList();
            Assert.Single(writes);

            writes[0].SetResult();
            await callers[0];
            await WaitUntil(() => writes.Count == 2);
            Assert.All(callers.Skip(1), c => Assert.False(c.IsCompleted));

            writes[1].SetResult();
            await Task.WhenAll(callers);
            Assert.Equal((2, 2L), (writes.Count, commit.Writes));
        });
    }

    [Fact]
    public void A_caller_that_changed_nothing_waits_for_the_write_in_flight_and_a_failed_write_is_retried_by_those_who_shared_it()
    {
        OnOneThread(async () =>
        {
            var (commit, writes) = HeldWrites();
            var first = commit.CommitAsync();
            var resent = commit.DurableAsync();
            var second = commit.CommitAsync();
            Assert.False(resent.IsCompleted);

            writes[0].SetException(new IOException("storage unreachable"));
            await Assert.ThrowsAsync<IOException>(() => first);
            // The change made meanwhile was in nobody's write yet: its caller writes it, and the resent one waits on the
            // first change, which failed, so it writes too (one write carries both).
            await WaitUntil(() => writes.Count == 2);
            writes[1].SetResult();
            await Task.WhenAll(second, resent);
            Assert.Equal(1L, commit.Writes);
        });
    }

    [Fact]
    public void A_write_that_completes_at_once_leaves_nothing_in_flight()
    {
        OnOneThread(async () =>
        {
            var count = 0;
            var commit = new GroupCommit(() =>
            {
                count++;
                return Task.CompletedTask;
            });
            for (var i = 0; i < 3; i++) await commit.CommitAsync();
            await commit.DurableAsync();
            Assert.Equal((3, 3L), (count, commit.Writes));
        });
    }

    /// <summary>A group commit whose every write waits until the test completes it.</summary>
    private static (GroupCommit Commit, List<TaskCompletionSource> Writes) HeldWrites()
    {
        var writes = new List<TaskCompletionSource>();
        return (new GroupCommit(() =>
        {
            var write = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            writes.Add(write);
            return write.Task;
        }), writes);
    }

    private static async Task WaitUntil(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not reached");
            await Task.Yield();
        }
    }

    /// <summary>Runs <paramref name="body"/> with every continuation on this one thread, as an activation runs its turns.</summary>
    private static void OnOneThread(Func<Task> body)
    {
        var previous = SynchronizationContext.Current;
        var context = new OneThread();
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            var task = body();
            task.ContinueWith(_ => context.Queue.CompleteAdding(), TaskScheduler.Default);
            foreach (var (callback, state) in context.Queue.GetConsumingEnumerable()) callback(state);
            task.GetAwaiter().GetResult();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    private sealed class OneThread : SynchronizationContext
    {
        public BlockingCollection<(SendOrPostCallback, object?)> Queue { get; } = [];

        public override void Post(SendOrPostCallback d, object? state) => Queue.Add((d, state));

        public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException();
    }
}
