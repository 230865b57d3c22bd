using Platform.Runtime.Timers;

namespace Platform.Runtime.Tests.Storage;

/// <summary>
/// The behaviour every <see cref="IReminderTable"/> provider must show; one subclass per provider.
/// Each test uses its own grain type, so providers whose table outlives a test need no cleanup between tests.
/// </summary>
public abstract class ReminderTableContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.FromHours(2));

    protected ReminderTableContract()
    {
        GrainType = $"alarm-{Guid.NewGuid():N}"[..14];
    }

    protected IReminderTable Table { get; private set; } = null!;

    /// <summary>The grain type this test's reminders use, unique per test.</summary>
    protected string GrainType { get; }

    /// <summary>Creates a table instance; called once per test and again when a test needs a fresh instance.</summary>
    protected abstract Task<IReminderTable> CreateTableAsync();

    public virtual async Task InitializeAsync() => Table = await CreateTableAsync();

    public virtual async Task DisposeAsync() => await DisposeTableAsync(Table);

    protected static async Task DisposeTableAsync(IReminderTable table)
    {
        switch (table)
        {
            case IAsyncDisposable asyncDisposable:
                await asyncDisposable.DisposeAsync();
                break;
            case IDisposable disposable:
                disposable.Dispose();
                break;
        }
    }

    [Fact]
    public async Task Read_of_missing_reminder_returns_null()
    {
        Assert.Null(await Table.ReadAsync(GrainType, "k", "missing"));
    }

    [Fact]
    public async Task Upsert_inserts_a_reminder_that_reads_back_with_the_returned_etag()
    {
        var eTag = await Table.UpsertAsync(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(5));

        var entry = await Table.ReadAsync(GrainType, "k", "wake");

        Assert.Equal(new ReminderEntry(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(5), eTag), entry);
    }

    [Fact]
    public async Task Start_time_and_period_round_trip_to_the_tick()
    {
        var start = Start.AddTicks(1234567);
        var period = TimeSpan.FromTicks(98765432101);
        await Table.UpsertAsync(GrainType, "k", "precise", start, period);

        var entry = Assert.IsType<ReminderEntry>(await Table.ReadAsync(GrainType, "k", "precise"));

        Assert.Equal(start.UtcTicks, entry.StartAt.UtcTicks);
        Assert.Equal(period, entry.Period);
    }

    [Fact]
    public async Task Upsert_of_an_existing_reminder_replaces_it_and_changes_the_etag()
    {
        var first = await Table.UpsertAsync(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(5));
        var second = await Table.UpsertAsync(GrainType, "k", "wake", Start.AddHours(1), TimeSpan.FromMinutes(10));

        Assert.NotEqual(first, second);
        Assert.Equal(new ReminderEntry(GrainType, "k", "wake", Start.AddHours(1), TimeSpan.FromMinutes(10), second), await Table.ReadAsync(GrainType, "k", "wake"));
    }

    [Fact]
    public async Task Remove_with_matching_etag_deletes_and_returns_true()
    {
        var eTag = await Table.UpsertAsync(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(5));

        Assert.True(await Table.RemoveAsync(GrainType, "k", "wake", eTag));
        Assert.Null(await Table.ReadAsync(GrainType, "k", "wake"));
    }

    [Fact]
    public async Task Remove_with_wrong_etag_returns_false_and_keeps_the_reminder()
    {
        var first = await Table.UpsertAsync(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(5));
        var second = await Table.UpsertAsync(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(6));

        Assert.False(await Table.RemoveAsync(GrainType, "k", "wake", first));
        Assert.False(await Table.RemoveAsync(GrainType, "k", "wake", "not-an-etag"));
        Assert.Equal(second, (await Table.ReadAsync(GrainType, "k", "wake"))!.ETag);
    }

    [Fact]
    public async Task Remove_of_missing_reminder_returns_false()
    {
        Assert.False(await Table.RemoveAsync(GrainType, "k", "missing", "1"));
    }

    [Fact]
    public async Task Etag_from_before_a_remove_does_not_remove_the_reinserted_reminder()
    {
        var old = await Table.UpsertAsync(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(5));
        Assert.True(await Table.RemoveAsync(GrainType, "k", "wake", old));
        var reinserted = await Table.UpsertAsync(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(5));

        Assert.NotEqual(old, reinserted);
        Assert.False(await Table.RemoveAsync(GrainType, "k", "wake", old));
        Assert.NotNull(await Table.ReadAsync(GrainType, "k", "wake"));
    }

    [Fact]
    public async Task ReadAll_returns_every_reminder()
    {
        var expected = new List<ReminderEntry>();
        foreach (var (key, name) in new[] { ("a", "one"), ("a", "two"), ("b", "one") })
        {
            var eTag = await Table.UpsertAsync(GrainType, key, name, Start, TimeSpan.FromSeconds(30));
            expected.Add(new ReminderEntry(GrainType, key, name, Start, TimeSpan.FromSeconds(30), eTag));
        }

        var removed = await Table.UpsertAsync(GrainType, "c", "gone", Start, TimeSpan.FromSeconds(30));
        await Table.RemoveAsync(GrainType, "c", "gone", removed);

        var mine = (await Table.ReadAllAsync()).Where(e => e.GrainType == GrainType).OrderBy(e => e.GrainKey).ThenBy(e => e.Name);
        Assert.Equal(expected, mine);
    }

    [Fact]
    public async Task Concurrent_upserts_of_distinct_reminders_all_land()
    {
        const int writers = 100;
        var eTags = await Task.WhenAll(Enumerable.Range(0, writers).Select(i =>
            Task.Run(() => Table.UpsertAsync(GrainType, $"k{i}", "wake", Start.AddSeconds(i), TimeSpan.FromMinutes(1)))));

        Assert.Equal(writers, eTags.Distinct().Count());
        var all = (await Table.ReadAllAsync()).Where(e => e.GrainType == GrainType).ToDictionary(e => e.GrainKey);
        Assert.Equal(writers, all.Count);
        for (var i = 0; i < writers; i++)
        {
            Assert.Equal(new ReminderEntry(GrainType, $"k{i}", "wake", Start.AddSeconds(i), TimeSpan.FromMinutes(1), eTags[i]), all[$"k{i}"]);
        }
    }

    [Fact]
    public async Task Concurrent_removes_with_the_same_etag_exactly_one_succeeds()
    {
        var eTag = await Table.UpsertAsync(GrainType, "k", "wake", Start, TimeSpan.FromMinutes(5));

        var results = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => Task.Run(() => Table.RemoveAsync(GrainType, "k", "wake", eTag))));

        Assert.Single(results, removed => removed);
        Assert.Null(await Table.ReadAsync(GrainType, "k", "wake"));
    }
}
