using System.Buffers.Binary;
using System.Text;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IGrainStorage"/> provider must show; one subclass per provider.
/// Each test uses its own grain keys, so providers whose database outlives a test need no cleanup between tests.
/// </summary>
public abstract class GrainStorageContract : IAsyncLifetime
{
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    protected IGrainStorage Storage { get; private set; } = null!;

    /// <summary>Creates a provider instance; called once per test and again when a test needs a fresh instance.</summary>
    protected abstract Task<IGrainStorage> CreateStorageAsync();

    public virtual async Task InitializeAsync() => Storage = await CreateStorageAsync();

    public virtual async Task DisposeAsync() => await DisposeStorageAsync(Storage);

    protected static async Task DisposeStorageAsync(IGrainStorage storage)
    {
        switch (storage)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    /// <summary>A grain key unique to this test run, starting with <paramref name="name"/>.</summary>
    protected string Key(string name) => $"{name}-{_run}";

    protected static byte[] Bytes(string text) => Encoding.UTF8.GetBytes(text);

    protected static string Text(StoredState? state) => Encoding.UTF8.GetString(Assert.NotNull(state).Data.Span);

    [Fact]
    public async Task Read_of_missing_state_returns_null()
    {
        Assert.Null(await Storage.ReadAsync("counter", Key("missing"), "state"));
    }

    [Fact]
    public async Task Write_with_null_etag_creates_state_that_reads_back_with_the_returned_etag()
    {
        var key = Key("create");
        var eTag = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);

        var stored = await Storage.ReadAsync("counter", key, "state");
        Assert.Equal("one", Text(stored));
        Assert.Equal(eTag, stored!.Value.ETag);
        Assert.False(string.IsNullOrEmpty(eTag));
    }

    [Fact]
    public async Task Write_with_current_etag_replaces_data_and_changes_etag()
    {
        var key = Key("replace");
        var first = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);
        var second = await Storage.WriteAsync("counter", key, "state", Bytes("two"), first);

        Assert.NotEqual(first, second);
        var stored = await Storage.ReadAsync("counter", key, "state");
        Assert.Equal("two", Text(stored));
        Assert.Equal(second, stored!.Value.ETag);
    }

    [Fact]
    public async Task Write_with_stale_etag_throws_inconsistent_state_naming_the_grain()
    {
        var key = Key("abc");
        var first = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);
        var second = await Storage.WriteAsync("counter", key, "state", Bytes("two"), first);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteAsync("counter", key, "state", Bytes("three"), first));

        Assert.Contains($"grain counter/{key} state 'state'", error.Message);
        Assert.Contains("ETag mismatch", error.Message);
        Assert.Contains($"expected {first}", error.Message);
        Assert.Contains($"stored {second}", error.Message);
        Assert.Equal(second, error.StoredETag);
        Assert.Equal(first, error.CurrentETag);
        Assert.Equal("two", Text(await Storage.ReadAsync("counter", key, "state")));
    }

    [Fact]
    public async Task Write_with_null_etag_when_state_exists_throws_inconsistent_state()
    {
        var key = Key("exists");
        var stored = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteAsync("counter", key, "state", Bytes("two"), null));

        Assert.Equal(stored, error.StoredETag);
        Assert.Null(error.CurrentETag);
        Assert.Contains("expected none", error.Message);
    }

    [Fact]
    public async Task Write_with_etag_when_nothing_is_stored_throws_inconsistent_state()
    {
        var key = Key("nothing");

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteAsync("counter", key, "state", Bytes("one"), "12345"));

        Assert.Null(error.StoredETag);
        Assert.Equal("12345", error.CurrentETag);
        Assert.Contains("stored none", error.Message);
        Assert.Null(await Storage.ReadAsync("counter", key, "state"));
    }

    [Fact]
    public async Task Write_with_an_etag_this_provider_never_issued_throws_inconsistent_state()
    {
        var key = Key("foreign");
        var stored = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteAsync("counter", key, "state", Bytes("two"), "not-an-etag"));

        Assert.Equal(stored, error.StoredETag);
        Assert.Equal("not-an-etag", error.CurrentETag);
    }

    [Fact]
    public async Task Clear_with_matching_etag_deletes_the_state()
    {
        var key = Key("clear");
        var eTag = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);

        await Storage.ClearAsync("counter", key, "state", eTag);

        Assert.Null(await Storage.ReadAsync("counter", key, "state"));
    }

    [Fact]
    public async Task Clear_with_stale_etag_throws_and_keeps_the_state()
    {
        var key = Key("clear-stale");
        var first = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);
        var second = await Storage.WriteAsync("counter", key, "state", Bytes("two"), first);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearAsync("counter", key, "state", first));

        Assert.Contains($"grain counter/{key} state 'state'", error.Message);
        Assert.Equal(second, error.StoredETag);
        Assert.Equal("two", Text(await Storage.ReadAsync("counter", key, "state")));
    }

    [Fact]
    public async Task Clear_with_null_etag_when_state_exists_throws_and_keeps_the_state()
    {
        var key = Key("clear-null");
        var eTag = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);

        var error = await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.ClearAsync("counter", key, "state", null));

        Assert.Equal(eTag, error.StoredETag);
        Assert.Equal("one", Text(await Storage.ReadAsync("counter", key, "state")));
    }

    [Fact]
    public async Task Clear_of_missing_state_with_null_etag_succeeds()
    {
        await Storage.ClearAsync("counter", Key("never"), "state", null);
    }

    [Fact]
    public async Task Clear_then_write_with_null_etag_succeeds()
    {
        var key = Key("recreate");
        var eTag = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);
        await Storage.ClearAsync("counter", key, "state", eTag);

        var recreated = await Storage.WriteAsync("counter", key, "state", Bytes("two"), null);

        var stored = await Storage.ReadAsync("counter", key, "state");
        Assert.Equal("two", Text(stored));
        Assert.Equal(recreated, stored!.Value.ETag);
    }

    [Fact]
    public async Task Etag_from_before_a_clear_does_not_match_the_recreated_state()
    {
        var key = Key("aba");
        var old = await Storage.WriteAsync("counter", key, "state", Bytes("one"), null);
        await Storage.ClearAsync("counter", key, "state", old);
        var recreated = await Storage.WriteAsync("counter", key, "state", Bytes("two"), null);

        Assert.NotEqual(old, recreated);
        await Assert.ThrowsAsync<InconsistentStateException>(() => Storage.WriteAsync("counter", key, "state", Bytes("stale"), old));
        Assert.Equal("two", Text(await Storage.ReadAsync("counter", key, "state")));
    }

    [Fact]
    public async Task States_are_addressed_by_grain_type_key_and_state_name()
    {
        var key = Key("address");
        await Storage.WriteAsync("counter", key, "state", Bytes("a"), null);
        await Storage.WriteAsync("timer", key, "state", Bytes("b"), null);
        await Storage.WriteAsync("counter", key + "x", "state", Bytes("c"), null);
        await Storage.WriteAsync("counter", key, "other", Bytes("d"), null);

        Assert.Equal("a", Text(await Storage.ReadAsync("counter", key, "state")));
        Assert.Equal("b", Text(await Storage.ReadAsync("timer", key, "state")));
        Assert.Equal("c", Text(await Storage.ReadAsync("counter", key + "x", "state")));
        Assert.Equal("d", Text(await Storage.ReadAsync("counter", key, "other")));
    }

    [Fact]
    public async Task Empty_and_large_states_round_trip_byte_for_byte()
    {
        var large = new byte[1 << 20];
        new Random(42).NextBytes(large);
        await Storage.WriteAsync("blob", Key("empty"), "state", ReadOnlyMemory<byte>.Empty, null);
        await Storage.WriteAsync("blob", Key("large"), "state", large, null);

        Assert.Equal(0, (await Storage.ReadAsync("blob", Key("empty"), "state"))!.Value.Data.Length);
        Assert.True((await Storage.ReadAsync("blob", Key("large"), "state"))!.Value.Data.Span.SequenceEqual(large));
    }

    [Fact]
    public async Task Written_data_is_a_copy_so_the_caller_may_reuse_its_buffer()
    {
        var key = Key("buffer");
        var buffer = Bytes("[original]");
        await Storage.WriteAsync("counter", key, "state", buffer.AsMemory(1, 8), null);

        Array.Fill(buffer, (byte)'x');

        Assert.Equal("original", Text(await Storage.ReadAsync("counter", key, "state")));
    }

    [Fact]
    public async Task Write_with_an_already_cancelled_token_stores_nothing()
    {
        var key = Key("cancelled");

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Storage.WriteAsync("counter", key, "state", Bytes("one"), null, new CancellationToken(canceled: true)));

        Assert.Null(await Storage.ReadAsync("counter", key, "state"));
    }

    [Fact]
    public async Task Concurrent_writes_to_distinct_grains_all_land()
    {
        const int writers = 200;
        var eTags = await Task.WhenAll(Enumerable.Range(0, writers).Select(i =>
            Task.Run(() => Storage.WriteAsync("counter", Key($"many-{i}"), "state", Bytes($"value-{i}"), null))));

        Assert.Equal(writers, eTags.Distinct().Count());
        for (var i = 0; i < writers; i++)
        {
            var stored = await Storage.ReadAsync("counter", Key($"many-{i}"), "state");
            Assert.Equal($"value-{i}", Text(stored));
            Assert.Equal(eTags[i], stored!.Value.ETag);
        }
    }

    [Fact]
    public async Task Concurrent_writes_to_same_grain_with_same_etag_exactly_one_wins()
    {
        const int writers = 50;
        var key = Key("race");
        var start = await Storage.WriteAsync("counter", key, "state", Bytes("start"), null);

        var attempts = Enumerable.Range(0, writers).Select(i =>
            Task.Run(() => Storage.WriteAsync("counter", key, "state", Bytes($"writer-{i}"), start))).ToArray();
        try
        {
            await Task.WhenAll(attempts);
        }
        catch (InconsistentStateException)
        {
            // Inspected per attempt below.
        }

        var winners = attempts.Where(a => a.IsCompletedSuccessfully).ToArray();
        var winner = Assert.Single(winners);
        Assert.All(attempts.Where(a => !a.IsCompletedSuccessfully), a => Assert.IsType<InconsistentStateException>(a.Exception!.InnerException));

        var stored = await Storage.ReadAsync("counter", key, "state");
        Assert.Equal(await winner, stored!.Value.ETag);
        Assert.Equal($"writer-{Array.IndexOf(attempts, winner)}", Text(stored));
    }

    [Fact]
    public async Task Concurrent_read_modify_write_loops_lose_no_update()
    {
        const int workers = 8;
        const int incrementsPerWorker = 15;
        var key = Key("increment");

        await Task.WhenAll(Enumerable.Range(0, workers).Select(_ => Task.Run(async () =>
        {
            for (var done = 0; done < incrementsPerWorker;)
            {
                var current = await Storage.ReadAsync("counter", key, "state");
                var value = current is { } s ? BinaryPrimitives.ReadInt32LittleEndian(s.Data.Span) : 0;
                var next = new byte[4];
                BinaryPrimitives.WriteInt32LittleEndian(next, value + 1);
                try
                {
                    await Storage.WriteAsync("counter", key, "state", next, current?.ETag);
                    done++;
                }
                catch (InconsistentStateException)
                {
                    // Someone else incremented first: read again and retry.
                }
            }
        })));

        var final = await Storage.ReadAsync("counter", key, "state");
        Assert.Equal(workers * incrementsPerWorker, BinaryPrimitives.ReadInt32LittleEndian(final!.Value.Data.Span));
    }
}
