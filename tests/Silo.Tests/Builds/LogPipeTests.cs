using System.Collections.Concurrent;
using Platform.Grains.Builds;
using Platform.Silo.Agents;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// The hub's pipe for a job log: chunks handed over without waiting, merged while a write is in flight, written and
/// acknowledged in order. (End to end, through real agents and the real log grain: the build log tests.)
/// </summary>
public sealed class LogPipeTests
{
    private static LogPipe.Chunk Chunk(long seq, long offset, string text) => new(seq, offset, System.Text.Encoding.ASCII.GetBytes(text));

    private static string Text(LogPipe.Chunk c) => System.Text.Encoding.ASCII.GetString(c.Data);

    [Fact]
    public void Chunks_that_follow_one_another_become_one_write_with_the_last_sequence_number()
    {
        var writes = LogPipe.Merge([Chunk(1, 0, "ab"), Chunk(2, 2, "cd"), Chunk(3, 4, "e")], 1024);
        var write = Assert.Single(writes);
        Assert.Equal((3L, 0L, "abcde"), (write.Seq, write.Offset, Text(write)));
    }

    [Fact]
    public void A_gap_an_overlap_or_a_resend_starts_a_new_write_in_its_place()
    {
        var writes = LogPipe.Merge([Chunk(1, 0, "ab"), Chunk(2, 2, "cd"), Chunk(2, 2, "cd"), Chunk(4, 9, "x"), Chunk(5, 10, "y"), Chunk(3, 4, "ef")], 1024);
        Assert.Equal([(2L, 0L, "abcd"), (2L, 2L, "cd"), (5L, 9L, "xy"), (3L, 4L, "ef")], writes.Select(w => (w.Seq, w.Offset, Text(w))));
    }

    [Fact]
    public void A_write_holds_at_most_the_limit_unless_one_chunk_is_larger()
    {
        var writes = LogPipe.Merge([Chunk(1, 0, "aaaa"), Chunk(2, 4, "bbbb"), Chunk(3, 8, "cccc"), Chunk(4, 12, "dddddddddd")], 8);
        Assert.Equal([(2L, 0L, "aaaabbbb"), (3L, 8L, "cccc"), (4L, 12L, "dddddddddd")], writes.Select(w => (w.Seq, w.Offset, Text(w))));
    }

    /// <summary>An in-memory log grain whose writes wait for the test to let them through.</summary>
    private sealed class HeldLog : IJobLogGrain
    {
        public ConcurrentQueue<LogPipe.Chunk> Writes { get; } = new();
        public SemaphoreSlim Gate { get; } = new(0);
        public int Entered;

        public async Task<long> Append(long seq, long offset, byte[] data)
        {
            Interlocked.Increment(ref Entered);
            await Gate.WaitAsync();
            Writes.Enqueue(new LogPipe.Chunk(seq, offset, data));
            return seq;
        }

        public Task End() => Task.CompletedTask;

        public Task<LogSlice> Read(long offset, int max, int waitMs) => throw new NotSupportedException();
    }

    [Fact]
    public async Task Chunks_that_arrive_while_a_write_is_in_flight_go_together_in_the_next_and_each_write_is_acknowledged_in_order()
    {
        var log = new HeldLog();
        var acks = new ConcurrentQueue<long>();
        var pipe = new LogPipe(log, acks.Enqueue, e => Assert.Fail(e.ToString()));

        Assert.True(pipe.Add(1, 0, "a"u8.ToArray()).IsCompleted);
        // The first write is in flight (held): the next three wait and are merged.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (Volatile.Read(ref log.Entered) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the first write never started");
            await Task.Delay(1);
        }
        foreach (var (seq, offset, text) in new[] { (2L, 1L, "b"), (3L, 2L, "c"), (4L, 3L, "d") })
            Assert.True(pipe.Add(seq, offset, System.Text.Encoding.ASCII.GetBytes(text)).IsCompleted, "the receive loop waited");
        var drained = pipe.Drained;
        Assert.False(drained.IsCompleted);

        log.Gate.Release(2);
        await drained.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal([(1L, 0L, "a"), (4L, 1L, "bcd")], log.Writes.Select(w => (w.Seq, w.Offset, Text(w))));
        Assert.Equal([1L, 4L], acks);
    }

    [Fact]
    public async Task Past_the_bound_of_bytes_waiting_the_receive_loop_waits_until_they_are_written()
    {
        var log = new HeldLog();
        var pipe = new LogPipe(log, _ => { }, e => Assert.Fail(e.ToString()));
        var chunk = new byte[1 << 20];
        var offset = 0L;
        Task added = Task.CompletedTask;
        var seq = 0;
        while (added.IsCompleted)
        {
            Assert.True(offset <= LogPipe.MaxPendingBytes + 2 * chunk.Length, "never made to wait");
            added = pipe.Add(++seq, offset, chunk);
            offset += chunk.Length;
        }
        // The wait starts once more than the bound is queued (behind the held write, or with its chunk if the pump had not taken it yet).
        Assert.InRange(seq, LogPipe.MaxPendingBytes / chunk.Length + 1, LogPipe.MaxPendingBytes / chunk.Length + 2);

        log.Gate.Release(seq);
        await added.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(offset, log.Writes.Sum(w => (long)w.Data.Length));
    }
}
