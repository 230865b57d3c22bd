using System.Text;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IGrainJournal"/> provider must show (fencing, sequence numbers, snapshots,
/// durability across instances); one subclass per provider.
/// </summary>
public abstract class GrainJournalContract : IAsyncLifetime
{
    // Stream names carry this run's id: a database that outlives the test then needs no cleanup.
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    /// <summary>A new provider instance; the suite makes one per test.</summary>
    protected abstract Task<IGrainJournal> CreateJournalAsync();

    /// <summary>The instance under test.</summary>
    protected IGrainJournal Journal { get; private set; } = null!;

    /// <summary>
    /// Another provider instance on the same data, as a restarted process or a second silo would have; the memory
    /// provider's data lives in its instance, so it hands back the same one.
    /// </summary>
    protected virtual Task<IGrainJournal> OpenAnotherInstanceAsync() => CreateJournalAsync();

    public virtual async Task InitializeAsync() => Journal = await CreateJournalAsync();

    public virtual Task DisposeAsync() => DisposeJournalAsync(Journal).AsTask();

    protected static ValueTask DisposeJournalAsync(IGrainJournal journal) => journal switch
    {
        IAsyncDisposable asyncDisposable => asyncDisposable.DisposeAsync(),
        IDisposable disposable => DisposeSynchronously(disposable),
        _ => ValueTask.CompletedTask,
    };

    /// <summary>Runs <paramref name="test"/> with <see cref="OpenAnotherInstanceAsync"/>'s instance and disposes it after.</summary>
    protected async Task WithAnotherInstanceAsync(Func<IGrainJournal, Task> test)
    {
        var other = await OpenAnotherInstanceAsync();
        try
        {
            await test(other);
        }
        finally
        {
            if (!ReferenceEquals(other, Journal))
            {
                await DisposeJournalAsync(other);
            }
        }
    }

    private static ValueTask DisposeSynchronously(IDisposable disposable)
    {
        disposable.Dispose();
        return ValueTask.CompletedTask;
    }

    /// <summary>A stream name unique to this test run, starting with <paramref name="name"/>.</summary>
    protected string Stream(string name) => $"{name}/{_run}";

    protected static ReadOnlyMemory<byte> Bytes(string text) => Encoding.UTF8.GetBytes(text);

    protected static IReadOnlyList<ReadOnlyMemory<byte>> Records(params string[] texts) => [.. texts.Select(Bytes)];

    protected static string[] Texts(JournalOpenResult opened) => [.. opened.Records.Select(r => Encoding.UTF8.GetString(r.Data))];

    protected static long[] Seqs(JournalOpenResult opened) => [.. opened.Records.Select(r => r.Seq)];

    /// <summary>
    /// Opens <paramref name="streams"/> one after another: each open reads on a pooled connection of its own, and a
    /// test server allows only so many at once. The tests' concurrency is in the appends.
    /// </summary>
    protected async Task<JournalOpenResult[]> OpenEachAsync(IEnumerable<string> streams)
    {
        var opened = new List<JournalOpenResult>();
        foreach (var stream in streams)
        {
            opened.Add(await Journal.OpenAsync(stream));
        }

        return [.. opened];
    }

    /// <summary>A stream opened once, with records "one", "two" and a snapshot "s2" at 2.</summary>
    private async Task<(string Stream, JournalOpenResult Opened)> TwoRecordsAndSnapshotAsync(string name)
    {
        var stream = Stream(name);
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one", "two"));
        await Journal.SaveSnapshotAsync(stream, opened.Epoch, 2, Bytes("s2"));
        return (stream, opened);
    }

    [Fact]
    public async Task Open_on_an_empty_stream_returns_epoch_1_no_snapshot_and_no_records()
    {
        var opened = await Journal.OpenAsync(Stream("empty"));

        Assert.Equal(1, opened.Epoch);
        Assert.Equal(0, opened.SnapshotSeq);
        Assert.Null(opened.Snapshot);
        Assert.Empty(opened.Records);
        Assert.Equal(0, opened.LastSeq);
    }

    [Fact]
    public async Task Every_open_returns_a_higher_epoch()
    {
        var stream = Stream("epochs");

        var epochs = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            epochs.Add((await Journal.OpenAsync(stream)).Epoch);
        }

        Assert.Equal([1, 2, 3, 4], epochs);
    }

    [Fact]
    public async Task Appended_records_come_back_in_order_with_exact_bytes_on_reopen()
    {
        var stream = Stream("append");
        var opened = await Journal.OpenAsync(stream);
        byte[] binary = [0, 255, 1, 0, 128, 127];
        var window = new byte[] { 9, 9, 42, 43, 44, 9 };

        await Journal.AppendAsync(stream, opened.Epoch, 1, [binary]);
        await Journal.AppendAsync(stream, opened.Epoch, 2, [ReadOnlyMemory<byte>.Empty, window.AsMemory(2, 3)]);
        await Journal.AppendAsync(stream, opened.Epoch, 4, Records("four", "five", "six"));

        var reopened = await Journal.OpenAsync(stream);
        Assert.Equal(opened.Epoch + 1, reopened.Epoch);
        Assert.Equal([1, 2, 3, 4, 5, 6], Seqs(reopened));
        Assert.Equal(binary, reopened.Records[0].Data);
        Assert.Empty(reopened.Records[1].Data);
        Assert.Equal([42, 43, 44], reopened.Records[2].Data);
        Assert.Equal(["four", "five", "six"], Texts(reopened)[3..]);
        Assert.Equal(6, reopened.LastSeq);
        Assert.Null(reopened.Snapshot);
    }

    [Fact]
    public async Task Streams_are_independent()
    {
        var first = Stream("first");
        var second = Stream("second");
        await Journal.OpenAsync(first);
        var a = await Journal.OpenAsync(first);
        var b = await Journal.OpenAsync(second);

        await Journal.AppendAsync(first, a.Epoch, 1, Records("a1", "a2"));
        await Journal.AppendAsync(second, b.Epoch, 1, Records("b1"));

        Assert.Equal(2, a.Epoch);
        Assert.Equal(1, b.Epoch);
        Assert.Equal(["a1", "a2"], Texts(await Journal.OpenAsync(first)));
        Assert.Equal(["b1"], Texts(await Journal.OpenAsync(second)));
    }

    [Fact]
    public async Task A_fenced_writers_append_and_snapshot_throw_naming_the_stream_and_store_nothing()
    {
        var stream = Stream("fenced");
        var old = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, old.Epoch, 1, Records("one", "two"));
        var successor = await Journal.OpenAsync(stream);

        var append = await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.AppendAsync(stream, old.Epoch, 3, Records("late")));
        var snapshot = await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.SaveSnapshotAsync(stream, old.Epoch, 2, Bytes("stale")));

        Assert.Equal($"journal '{stream}': append at 3 by epoch {old.Epoch} refused: current epoch {successor.Epoch}, last record 2", append.Message);
        Assert.Equal($"journal '{stream}': snapshot at 2 by epoch {old.Epoch} refused: current epoch {successor.Epoch}, last record 2", snapshot.Message);
        var reopened = await Journal.OpenAsync(stream);
        Assert.Null(reopened.Snapshot);
        Assert.Equal(0, reopened.SnapshotSeq);
        Assert.Equal(["one", "two"], Texts(reopened));
        await Journal.AppendAsync(stream, reopened.Epoch, 3, Records("three"));
    }

    [Fact]
    public async Task A_snapshot_older_than_the_saved_one_is_still_refused_when_fenced()
    {
        var (stream, old) = await TwoRecordsAndSnapshotAsync("fenced-old-snapshot");
        await Journal.OpenAsync(stream);

        await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.SaveSnapshotAsync(stream, old.Epoch, 1, Bytes("s1")));
    }

    [Fact]
    public async Task Append_with_a_gap_is_refused_and_stores_nothing()
    {
        var stream = Stream("gap");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one"));

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.AppendAsync(stream, opened.Epoch, 3, Records("three", "four")));

        Assert.Equal($"journal '{stream}': append at 3 by epoch {opened.Epoch} refused: current epoch {opened.Epoch}, last record 1", error.Message);
        await Journal.AppendAsync(stream, opened.Epoch, 2, Records("two"));
        Assert.Equal(["one", "two"], Texts(await Journal.OpenAsync(stream)));
    }

    [Fact]
    public async Task Append_overlapping_the_last_record_is_refused_and_stores_nothing()
    {
        var stream = Stream("overlap");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one", "two", "three"));

        await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.AppendAsync(stream, opened.Epoch, 3, Records("again", "four")));
        await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.AppendAsync(stream, opened.Epoch, 1, Records("again")));

        var reopened = await Journal.OpenAsync(stream);
        Assert.Equal(["one", "two", "three"], Texts(reopened));
        Assert.Equal(3, reopened.LastSeq);
    }

    [Fact]
    public async Task Append_to_a_stream_never_opened_is_refused_naming_the_stream()
    {
        var stream = Stream("never-opened");

        var append = await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.AppendAsync(stream, 1, 1, Records("one")));
        var snapshot = await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.SaveSnapshotAsync(stream, 1, 1, Bytes("s")));

        Assert.Equal($"journal '{stream}': append at 1 by epoch 1 refused: the stream was never opened", append.Message);
        Assert.Equal($"journal '{stream}': snapshot at 1 by epoch 1 refused: the stream was never opened", snapshot.Message);
        var opened = await Journal.OpenAsync(stream);
        Assert.Equal(1, opened.Epoch);
        Assert.Empty(opened.Records);
    }

    [Fact]
    public async Task A_multi_record_append_is_all_or_nothing()
    {
        var stream = Stream("all-or-nothing");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one"));

        await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.AppendAsync(stream, opened.Epoch, 1, Records("x", "y", "z")));
        Assert.Equal(["one"], Texts(await Journal.OpenAsync(stream)));

        var current = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, current.Epoch, 2, Records("two", "three", "four", "five"));
        var reopened = await Journal.OpenAsync(stream);
        Assert.Equal(["one", "two", "three", "four", "five"], Texts(reopened));
        Assert.Equal([1, 2, 3, 4, 5], Seqs(reopened));
    }

    [Fact]
    public async Task Snapshot_drops_older_records_and_reopen_returns_it_with_the_later_records()
    {
        var stream = Stream("snapshot");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one", "two", "three", "four", "five"));

        await Journal.SaveSnapshotAsync(stream, opened.Epoch, 3, Bytes("state after 3"));

        var reopened = await Journal.OpenAsync(stream);
        Assert.Equal(3, reopened.SnapshotSeq);
        Assert.Equal("state after 3", Encoding.UTF8.GetString(Assert.IsType<byte[]>(reopened.Snapshot)));
        Assert.Equal([4, 5], Seqs(reopened));
        Assert.Equal(["four", "five"], Texts(reopened));
        Assert.Equal(5, reopened.LastSeq);

        await Journal.AppendAsync(stream, reopened.Epoch, 6, Records("six"));
        var last = await Journal.OpenAsync(stream);
        Assert.Equal([4, 5, 6], Seqs(last));
    }

    [Fact]
    public async Task Snapshot_at_the_last_record_leaves_no_records_and_appends_continue_after_it()
    {
        var (stream, _) = await TwoRecordsAndSnapshotAsync("snapshot-all");

        var reopened = await Journal.OpenAsync(stream);
        Assert.Empty(reopened.Records);
        Assert.Equal(2, reopened.SnapshotSeq);
        Assert.Equal(2, reopened.LastSeq);

        await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.AppendAsync(stream, reopened.Epoch, 1, Records("again")));
        await Journal.AppendAsync(stream, reopened.Epoch, 3, Records("three"));
        var last = await Journal.OpenAsync(stream);
        Assert.Equal([3], Seqs(last));
        Assert.Equal("s2", Encoding.UTF8.GetString(last.Snapshot!));
    }

    [Fact]
    public async Task An_empty_snapshot_comes_back_empty_not_missing()
    {
        var stream = Stream("empty-snapshot");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one"));

        await Journal.SaveSnapshotAsync(stream, opened.Epoch, 1, ReadOnlyMemory<byte>.Empty);

        var reopened = await Journal.OpenAsync(stream);
        Assert.Equal(1, reopened.SnapshotSeq);
        Assert.Empty(Assert.IsType<byte[]>(reopened.Snapshot));
        Assert.Empty(reopened.Records);
    }

    [Fact]
    public async Task A_snapshot_older_than_the_saved_one_is_ignored()
    {
        var stream = Stream("older-snapshot");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one", "two", "three", "four"));
        await Journal.SaveSnapshotAsync(stream, opened.Epoch, 3, Bytes("s3"));

        await Journal.SaveSnapshotAsync(stream, opened.Epoch, 2, Bytes("s2"));
        await Journal.SaveSnapshotAsync(stream, opened.Epoch, 3, Bytes("s3 again"));

        var reopened = await Journal.OpenAsync(stream);
        Assert.Equal(3, reopened.SnapshotSeq);
        Assert.Equal("s3", Encoding.UTF8.GetString(reopened.Snapshot!));
        Assert.Equal(["four"], Texts(reopened));
    }

    [Fact]
    public async Task A_snapshot_beyond_the_last_record_is_refused_and_stores_nothing()
    {
        var stream = Stream("snapshot-beyond");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one", "two"));

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.SaveSnapshotAsync(stream, opened.Epoch, 3, Bytes("s3")));

        Assert.Equal($"journal '{stream}': snapshot at 3 by epoch {opened.Epoch} refused: current epoch {opened.Epoch}, last record 2", error.Message);
        var reopened = await Journal.OpenAsync(stream);
        Assert.Null(reopened.Snapshot);
        Assert.Equal(["one", "two"], Texts(reopened));
    }

    [Fact]
    public async Task A_refused_append_fails_alone_among_concurrent_appends()
    {
        var stale = Stream("stale");
        var old = await Journal.OpenAsync(stale);
        await Journal.OpenAsync(stale);
        var streams = Enumerable.Range(0, 100).Select(i => Stream($"batch-{i}")).ToArray();
        var epochs = await OpenEachAsync(streams);

        var good = streams.Take(50).Select((s, i) => Journal.AppendAsync(s, epochs[i].Epoch, 1, Records($"v{i}"))).ToList();
        var bad = Journal.AppendAsync(stale, old.Epoch, 1, Records("late"));
        good.AddRange(streams.Skip(50).Select((s, i) => Journal.AppendAsync(s, epochs[50 + i].Epoch, 1, Records($"v{50 + i}"))));

        await Assert.ThrowsAsync<InconsistentStateException>(() => bad);
        await Task.WhenAll(good);
        for (var i = 0; i < streams.Length; i++)
        {
            Assert.Equal([$"v{i}"], Texts(await Journal.OpenAsync(streams[i])));
        }

        Assert.Empty((await Journal.OpenAsync(stale)).Records);
    }

    [Fact]
    public async Task Many_concurrent_appends_on_many_streams_are_all_durable_in_another_instance()
    {
        const int streamCount = 40;
        const int appendsPerStream = 25;
        var streams = Enumerable.Range(0, streamCount).Select(i => Stream($"load-{i}")).ToArray();
        var opened = await OpenEachAsync(streams);

        // Each stream's writer awaits its previous append, as a grain would; the streams run side by side.
        await Task.WhenAll(streams.Select(async (stream, s) =>
        {
            for (var seq = 1; seq <= appendsPerStream; seq++)
            {
                await Journal.AppendAsync(stream, opened[s].Epoch, seq, [Bytes($"{s}:{seq}")]);
            }
        }));

        await WithAnotherInstanceAsync(async other =>
        {
            for (var s = 0; s < streamCount; s++)
            {
                var reopened = await other.OpenAsync(streams[s]);
                Assert.Equal(opened[s].Epoch + 1, reopened.Epoch);
                Assert.Equal(Enumerable.Range(1, appendsPerStream).Select(seq => $"{s}:{seq}"), Texts(reopened));
            }
        });
    }

    [Fact]
    public async Task Concurrent_opens_from_two_instances_get_distinct_epochs_and_only_the_newest_may_write()
    {
        var stream = Stream("contended");
        await WithAnotherInstanceAsync(async other =>
        {
            var opens = await Task.WhenAll(Enumerable.Range(0, 20).Select(i => Task.Run(() => (i % 2 == 0 ? Journal : other).OpenAsync(stream))));

            var epochs = opens.Select(o => o.Epoch).Order().ToArray();
            Assert.Equal(Enumerable.Range(1, 20).Select(e => (long)e), epochs);
            foreach (var stale in epochs[..^1])
            {
                await Assert.ThrowsAsync<InconsistentStateException>(() => Journal.AppendAsync(stream, stale, 1, Records("stale")));
            }

            await other.AppendAsync(stream, epochs[^1], 1, Records("newest"));
            Assert.Equal(["newest"], Texts(await Journal.OpenAsync(stream)));
        });
    }

    [Fact]
    public async Task Invalid_arguments_are_rejected_naming_the_parameter()
    {
        var stream = Stream("arguments");
        var opened = await Journal.OpenAsync(stream);

        await Assert.ThrowsAnyAsync<ArgumentException>(() => Journal.OpenAsync(null!));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Journal.OpenAsync(""));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Journal.AppendAsync("", opened.Epoch, 1, Records("x")));
        await Assert.ThrowsAnyAsync<ArgumentException>(() => Journal.SaveSnapshotAsync("", opened.Epoch, 1, Bytes("x")));

        var empty = await Assert.ThrowsAsync<ArgumentException>(() => Journal.AppendAsync(stream, opened.Epoch, 1, []));
        Assert.Equal("records", empty.ParamName);
        Assert.Contains($"'{stream}'", empty.Message);

        var zero = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Journal.AppendAsync(stream, opened.Epoch, 0, Records("x")));
        Assert.Equal("firstSeq", zero.ParamName);

        var snapshot = await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => Journal.SaveSnapshotAsync(stream, opened.Epoch, 0, Bytes("x")));
        Assert.Equal("seq", snapshot.ParamName);

        var huge = await Assert.ThrowsAsync<ArgumentException>(() => Journal.AppendAsync(stream, opened.Epoch, 1, [new byte[GrainJournalChecks.MaxRecordBytes + 1]]));
        Assert.Equal("records", huge.ParamName);
        Assert.Contains("16 MiB", huge.Message);

        Assert.Empty((await Journal.OpenAsync(stream)).Records);
    }
}
