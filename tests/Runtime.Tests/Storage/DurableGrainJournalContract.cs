using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Storage;

namespace Platform.Runtime.Tests.Storage;

/// <summary>
/// What the database-backed journals show beyond the contract: group commit, durability across provider instances,
/// a write the database rejects failing alone, and registration that hands disposal to the container.
/// </summary>
public abstract class DurableGrainJournalContract : GrainJournalContract
{
    /// <summary>Transactions the instance's writer has committed so far.</summary>
    protected abstract long CommitsOf(IGrainJournal journal);

    /// <summary>Runs <paramref name="sql"/> on the database, outside the provider, and returns the first column of the first row.</summary>
    protected abstract Task<object?> ExecuteAsync(string sql);

    /// <summary>Registers the provider with its extension method, on the database the tests use.</summary>
    protected abstract void Register(IServiceCollection services);

    [Fact]
    public async Task Concurrent_appends_share_transactions()
    {
        const int count = 200;
        var streams = Enumerable.Range(0, count).Select(i => Stream($"group-{i}")).ToArray();
        var opened = await OpenEachAsync(streams);
        var before = CommitsOf(Journal);

        await Task.WhenAll(streams.Select((s, i) => Journal.AppendAsync(s, opened[i].Epoch, 1, Records("x"))));

        Assert.InRange(CommitsOf(Journal) - before, 1, count - 1);
    }

    [Fact]
    public async Task A_fresh_provider_on_the_same_database_reads_what_the_first_wrote()
    {
        var stream = Stream("durable");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one", "two", "three"));
        await Journal.SaveSnapshotAsync(stream, opened.Epoch, 2, Bytes("s2"));
        await DisposeJournalAsync(Journal);

        var reopened = await CreateJournalAsync();
        try
        {
            var state = await reopened.OpenAsync(stream);

            Assert.Equal(opened.Epoch + 1, state.Epoch);
            Assert.Equal("s2", System.Text.Encoding.UTF8.GetString(state.Snapshot!));
            Assert.Equal(["three"], Texts(state));
            await Assert.ThrowsAsync<InconsistentStateException>(() => reopened.AppendAsync(stream, opened.Epoch, 4, Records("stale")));
        }
        finally
        {
            await DisposeJournalAsync(reopened);
        }
    }

    [Fact]
    public async Task An_append_the_database_rejects_fails_alone_changes_nothing_and_names_the_stream()
    {
        var stream = Stream("stray");
        var opened = await Journal.OpenAsync(stream);
        await Journal.AppendAsync(stream, opened.Epoch, 1, Records("one"));
        // A stray row where record 3 will go: the head check passes, then inserting the records fails.
        await ExecuteAsync($"INSERT INTO journal_log (stream, seq, data) SELECT stream, 3, data FROM journal_log WHERE stream = '{stream}' AND seq = 1");
        var others = Enumerable.Range(0, 20).Select(i => Stream($"neighbour-{i}")).ToArray();
        var neighbours = await OpenEachAsync(others);

        var good = others.Take(10).Select((s, i) => Journal.AppendAsync(s, neighbours[i].Epoch, 1, Records("n"))).ToList();
        var bad = Journal.AppendAsync(stream, opened.Epoch, 2, Records("two", "three"));
        good.AddRange(others.Skip(10).Select((s, i) => Journal.AppendAsync(s, neighbours[10 + i].Epoch, 1, Records("n"))));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Contains($"appending records 2..3 to journal '{stream}'", error.Message);
        await Task.WhenAll(good);
        Assert.Equal(1L, await ExecuteAsync($"SELECT last_seq FROM journal_head WHERE stream = '{stream}'"));
        Assert.Equal(1L, await ExecuteAsync($"SELECT count(*) FROM journal_log WHERE stream = '{stream}' AND seq < 3"));

        await ExecuteAsync($"DELETE FROM journal_log WHERE stream = '{stream}' AND seq = 3");
        await Journal.AppendAsync(stream, opened.Epoch, 2, Records("two", "three"));
        Assert.Equal(["one", "two", "three"], Texts(await Journal.OpenAsync(stream)));
        foreach (var other in others)
        {
            Assert.Equal(["n"], Texts(await Journal.OpenAsync(other)));
        }
    }

    [Fact]
    public async Task Writes_after_dispose_throw_object_disposed()
    {
        var stream = Stream("disposed");
        var opened = await Journal.OpenAsync(stream);
        await DisposeJournalAsync(Journal);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => Journal.AppendAsync(stream, opened.Epoch, 1, Records("late")));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => Journal.OpenAsync(stream));
    }

    [Fact]
    public async Task Registration_replaces_any_other_journal_with_one_singleton_the_container_disposes()
    {
        var services = new ServiceCollection();
        services.AddMemoryGrainJournal();

        Register(services);

        Assert.Single(services, d => d.ServiceType == typeof(IGrainJournal));
        IGrainJournal journal;
        await using (var provider = services.BuildServiceProvider())
        {
            journal = provider.GetRequiredService<IGrainJournal>();
            Assert.Same(journal, provider.GetRequiredService<IGrainJournal>());
            Assert.IsType(Journal.GetType(), journal);
            await journal.OpenAsync(Stream("registered"));
        }

        await Assert.ThrowsAsync<ObjectDisposedException>(() => journal.OpenAsync(Stream("registered")));
    }
}
