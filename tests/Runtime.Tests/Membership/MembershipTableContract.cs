using Platform.Runtime.Membership;

namespace Platform.Runtime.Tests.MembershipTests;

/// <summary>
/// The compare-and-swap rules every <see cref="IMembershipTable"/> provider must keep; one subclass per provider.
/// Each test uses its own cluster id, so providers whose table outlives a test need no cleanup between tests.
/// </summary>
public abstract class MembershipTableContract : IAsyncLifetime
{
    private static readonly DateTimeOffset Start = new(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
    private readonly List<IMembershipTable> _tables = [];

    protected MembershipTableContract()
    {
        ClusterId = $"c-{Guid.NewGuid():N}"[..14];
    }

    /// <summary>This test's cluster, unique per test.</summary>
    protected string ClusterId { get; }

    protected IMembershipTable Table { get; private set; } = null!;

    /// <summary>A table of <paramref name="clusterId"/> on the same store as every other table this test creates.</summary>
    protected abstract Task<IMembershipTable> CreateTableAsync(string clusterId);

    public async Task InitializeAsync()
    {
        Table = await OpenAsync(ClusterId);
    }

    public async Task DisposeAsync()
    {
        foreach (var table in _tables)
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
    }

    protected async Task<IMembershipTable> OpenAsync(string clusterId)
    {
        var table = await CreateTableAsync(clusterId);
        _tables.Add(table);
        await table.InitializeAsync();
        return table;
    }

    protected static SiloAddress Silo(int port, long generation = 1) => new("127.0.0.1", port, generation);

    protected static DateTimeOffset At(int seconds) => Start.AddSeconds(seconds);

    protected static MembershipEntry Entry(SiloAddress silo, SiloStatus status = SiloStatus.Joining, int iAmAlive = 0, params SuspectVote[] suspicions) =>
        new(silo, $"silo-{silo.Port}", status, $"http://127.0.0.1:{silo.Port + 1000}", At(0), At(iAmAlive), suspicions);

    protected static void AssertSameEntry(MembershipEntry expected, MembershipEntry actual)
    {
        Assert.Equal(expected.Silo, actual.Silo);
        Assert.Equal(expected.SiloName, actual.SiloName);
        Assert.Equal(expected.Status, actual.Status);
        Assert.Equal(expected.HttpUrl, actual.HttpUrl);
        Assert.Equal(expected.StartTime, actual.StartTime);
        Assert.Equal(expected.IAmAliveTime, actual.IAmAliveTime);
        Assert.Equal(expected.Suspicions, actual.Suspicions);
    }

    private static (MembershipEntry Entry, string ETag) Row(MembershipTableSnapshot snapshot, SiloAddress silo) =>
        Assert.Single(snapshot.Rows, r => r.Entry.Silo == silo);

    [Fact]
    public async Task A_new_cluster_has_a_version_and_no_rows()
    {
        var snapshot = await Table.ReadAllAsync();

        Assert.Empty(snapshot.Rows);
        Assert.Equal(0, snapshot.Version.Version);
        Assert.False(string.IsNullOrEmpty(snapshot.Version.ETag));
    }

    [Fact]
    public async Task Initialize_again_keeps_the_rows_and_the_version()
    {
        var read = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), read.Version.Next()));

        await Table.InitializeAsync();
        var again = await OpenAsync(ClusterId);

        var snapshot = await again.ReadAllAsync();
        Assert.Single(snapshot.Rows);
        Assert.Equal(1, snapshot.Version.Version);
    }

    [Fact]
    public async Task Insert_with_the_next_version_adds_the_row_and_installs_the_version()
    {
        var read = await Table.ReadAllAsync();
        var entry = Entry(Silo(1), SiloStatus.Active, 3, new SuspectVote(Silo(2), At(1)), new SuspectVote(Silo(3, 7), At(2)));

        Assert.True(await Table.InsertRowAsync(entry, read.Version.Next()));

        var snapshot = await Table.ReadAllAsync();
        AssertSameEntry(entry, Row(snapshot, Silo(1)).Entry);
        Assert.Equal(read.Version.Version + 1, snapshot.Version.Version);
        Assert.NotEqual(read.Version.ETag, snapshot.Version.ETag);
    }

    [Fact]
    public async Task A_row_without_http_url_round_trips()
    {
        var read = await Table.ReadAllAsync();
        var entry = Entry(Silo(1)) with { HttpUrl = null };

        Assert.True(await Table.InsertRowAsync(entry, read.Version.Next()));

        AssertSameEntry(entry, Row(await Table.ReadAllAsync(), Silo(1)).Entry);
    }

    [Fact]
    public async Task Insert_of_an_existing_row_fails_and_leaves_the_version()
    {
        var read = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), read.Version.Next()));
        var current = await Table.ReadAllAsync();

        Assert.False(await Table.InsertRowAsync(Entry(Silo(1), SiloStatus.Active), current.Version.Next()));

        var after = await Table.ReadAllAsync();
        Assert.Equal(current.Version, after.Version);
        Assert.Equal(SiloStatus.Joining, Row(after, Silo(1)).Entry.Status);
    }

    [Fact]
    public async Task Insert_with_a_stale_version_fails()
    {
        var stale = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), stale.Version.Next()));

        Assert.False(await Table.InsertRowAsync(Entry(Silo(2)), stale.Version.Next()));

        var after = await Table.ReadAllAsync();
        Assert.DoesNotContain(after.Rows, r => r.Entry.Silo == Silo(2));
        Assert.Equal(1, after.Version.Version);
    }

    [Fact]
    public async Task A_version_that_does_not_follow_the_read_one_fails()
    {
        var read = await Table.ReadAllAsync();

        Assert.False(await Table.InsertRowAsync(Entry(Silo(1)), read.Version with { Version = read.Version.Version + 2 }));
        Assert.False(await Table.InsertRowAsync(Entry(Silo(1)), read.Version));

        Assert.Empty((await Table.ReadAllAsync()).Rows);
    }

    [Fact]
    public async Task Update_with_current_etags_replaces_the_row_and_installs_the_version()
    {
        var read = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), read.Version.Next()));
        var current = await Table.ReadAllAsync();
        var (_, etag) = Row(current, Silo(1));
        var updated = Entry(Silo(1), SiloStatus.Dead, 9, new SuspectVote(Silo(2), At(8)));

        Assert.True(await Table.UpdateRowAsync(updated, etag, current.Version.Next()));

        var after = await Table.ReadAllAsync();
        var row = Row(after, Silo(1));
        AssertSameEntry(updated, row.Entry);
        Assert.NotEqual(etag, row.ETag);
        Assert.Equal(current.Version.Version + 1, after.Version.Version);
    }

    [Fact]
    public async Task Update_with_a_stale_version_fails()
    {
        var read = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), read.Version.Next()));
        var stale = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(2)), stale.Version.Next()));

        // Silo 1's row is untouched, so its ETag is current; only the version moved.
        Assert.False(await Table.UpdateRowAsync(Entry(Silo(1), SiloStatus.Active), Row(stale, Silo(1)).ETag, stale.Version.Next()));

        var after = await Table.ReadAllAsync();
        Assert.Equal(SiloStatus.Joining, Row(after, Silo(1)).Entry.Status);
        Assert.Equal(2, after.Version.Version);
    }

    [Fact]
    public async Task Update_with_a_stale_row_etag_fails()
    {
        var read = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), read.Version.Next()));
        var first = await Table.ReadAllAsync();
        Assert.True(await Table.UpdateRowAsync(Entry(Silo(1), SiloStatus.Active), Row(first, Silo(1)).ETag, first.Version.Next()));
        var current = await Table.ReadAllAsync();

        Assert.False(await Table.UpdateRowAsync(Entry(Silo(1), SiloStatus.Dead), Row(first, Silo(1)).ETag, current.Version.Next()));
        Assert.False(await Table.UpdateRowAsync(Entry(Silo(1), SiloStatus.Dead), "not-an-etag", current.Version.Next()));

        var after = await Table.ReadAllAsync();
        Assert.Equal(SiloStatus.Active, Row(after, Silo(1)).Entry.Status);
        Assert.Equal(current.Version, after.Version);
    }

    [Fact]
    public async Task Update_of_a_missing_row_fails()
    {
        var read = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), read.Version.Next()));
        var current = await Table.ReadAllAsync();

        Assert.False(await Table.UpdateRowAsync(Entry(Silo(2)), Row(current, Silo(1)).ETag, current.Version.Next()));

        Assert.Equal(current.Version, (await Table.ReadAllAsync()).Version);
    }

    [Fact]
    public async Task I_am_alive_changes_only_the_time_not_the_version_or_the_row_etag()
    {
        var read = await Table.ReadAllAsync();
        Assert.True(await Table.InsertRowAsync(Entry(Silo(1)), read.Version.Next()));
        var before = await Table.ReadAllAsync();

        await Table.UpdateIAmAliveAsync(Silo(1), At(42));

        var after = await Table.ReadAllAsync();
        Assert.Equal(before.Version, after.Version);
        var row = Row(after, Silo(1));
        Assert.Equal(At(42), row.Entry.IAmAliveTime);
        Assert.Equal(Row(before, Silo(1)).ETag, row.ETag);
        AssertSameEntry(Entry(Silo(1)) with { IAmAliveTime = At(42) }, row.Entry);
    }

    [Fact]
    public async Task I_am_alive_of_a_silo_without_a_row_fails_naming_it()
    {
        var error = await Assert.ThrowsAnyAsync<InvalidOperationException>(() => Table.UpdateIAmAliveAsync(Silo(9, 99), At(1)));

        Assert.Contains(Silo(9, 99).ToString(), error.Message);
    }

    [Fact]
    public async Task Cleanup_removes_only_dead_rows_older_than_the_cutoff()
    {
        await InsertAsync(Table, Entry(Silo(1), SiloStatus.Dead, iAmAlive: 10));
        await InsertAsync(Table, Entry(Silo(2), SiloStatus.Dead, iAmAlive: 30));
        await InsertAsync(Table, Entry(Silo(3), SiloStatus.Active, iAmAlive: 10));
        await InsertAsync(Table, Entry(Silo(4), SiloStatus.ShuttingDown, iAmAlive: 10));
        var before = await Table.ReadAllAsync();

        Assert.Equal(1, await Table.CleanupDefunctEntriesAsync(At(20)));

        var after = await Table.ReadAllAsync();
        Assert.Equal([Silo(2), Silo(3), Silo(4)], after.Rows.Select(r => r.Entry.Silo).Order());
        Assert.Equal(0, await Table.CleanupDefunctEntriesAsync(At(20)));
        Assert.Equal(before.Version.Version, after.Version.Version);
    }

    [Fact]
    public async Task Clusters_are_isolated_by_cluster_id()
    {
        var other = await OpenAsync($"{ClusterId}-other");
        await InsertAsync(Table, Entry(Silo(1)));
        await InsertAsync(Table, Entry(Silo(2)));
        var otherBefore = await other.ReadAllAsync();

        // The same silo address may be a member of another cluster; its version and rows are its own.
        Assert.True(await other.InsertRowAsync(Entry(Silo(1), SiloStatus.Active), otherBefore.Version.Next()));
        await other.UpdateIAmAliveAsync(Silo(1), At(77));
        Assert.Equal(0, await other.CleanupDefunctEntriesAsync(At(1000)));

        var mine = await Table.ReadAllAsync();
        var theirs = await other.ReadAllAsync();
        Assert.Equal(2, mine.Version.Version);
        Assert.Equal(2, mine.Rows.Count);
        Assert.Equal(SiloStatus.Joining, Row(mine, Silo(1)).Entry.Status);
        Assert.Equal(At(0), Row(mine, Silo(1)).Entry.IAmAliveTime);
        Assert.Equal(1, theirs.Version.Version);
        Assert.Equal(SiloStatus.Active, Assert.Single(theirs.Rows).Entry.Status);

        // A version ETag of one cluster means nothing to another.
        Assert.False(await Table.InsertRowAsync(Entry(Silo(3)), theirs.Version.Next()));
    }

    [Fact]
    public async Task Etags_are_never_reused_even_after_cleanup_and_reinsert()
    {
        var seen = new HashSet<string>();
        var read = await Table.ReadAllAsync();
        seen.Add(read.Version.ETag);
        for (var round = 0; round < 3; round++)
        {
            await InsertAsync(Table, Entry(Silo(1), SiloStatus.Dead));
            var snapshot = await Table.ReadAllAsync();
            Assert.True(seen.Add(Row(snapshot, Silo(1)).ETag), "row ETag reused");
            Assert.True(seen.Add(snapshot.Version.ETag), "version ETag reused");
            Assert.Equal(1, await Table.CleanupDefunctEntriesAsync(At(1)));
        }
    }

    [Fact]
    public async Task Of_twenty_racing_updates_from_one_read_exactly_one_succeeds()
    {
        await InsertAsync(Table, Entry(Silo(1), SiloStatus.Active));
        var read = await Table.ReadAllAsync();
        var (entry, etag) = Row(read, Silo(1));

        var attempts = Enumerable.Range(0, 20).Select(i => Task.Run(() =>
            Table.UpdateRowAsync(entry with { Suspicions = [new SuspectVote(Silo(100 + i), At(i))] }, etag, read.Version.Next())));
        var results = await Task.WhenAll(attempts);

        Assert.Single(results, r => r);
        var after = await Table.ReadAllAsync();
        Assert.Equal(read.Version.Version + 1, after.Version.Version);
        var winner = Array.IndexOf(results, true);
        Assert.Equal([new SuspectVote(Silo(100 + winner), At(winner))], Row(after, Silo(1)).Entry.Suspicions);
    }

    [Fact]
    public async Task Of_twenty_racing_inserts_from_one_read_exactly_one_succeeds()
    {
        var read = await Table.ReadAllAsync();

        var attempts = Enumerable.Range(0, 20).Select(i => Task.Run(() => Table.InsertRowAsync(Entry(Silo(200 + i)), read.Version.Next())));
        var results = await Task.WhenAll(attempts);

        Assert.Single(results, r => r);
        var after = await Table.ReadAllAsync();
        Assert.Equal(Silo(200 + Array.IndexOf(results, true)), Assert.Single(after.Rows).Entry.Silo);
        Assert.Equal(read.Version.Version + 1, after.Version.Version);
    }

    [Fact]
    public async Task Racing_inserts_and_updates_from_one_read_let_exactly_one_through()
    {
        await InsertAsync(Table, Entry(Silo(1), SiloStatus.Active));
        var read = await Table.ReadAllAsync();
        var (entry, etag) = Row(read, Silo(1));

        var attempts = Enumerable.Range(0, 20).Select(i => Task.Run(() => i % 2 == 0
            ? Table.InsertRowAsync(Entry(Silo(300 + i)), read.Version.Next())
            : Table.UpdateRowAsync(entry with { Status = SiloStatus.Dead }, etag, read.Version.Next())));
        var results = await Task.WhenAll(attempts);

        Assert.Single(results, r => r);
        Assert.Equal(read.Version.Version + 1, (await Table.ReadAllAsync()).Version.Version);
    }

    [Fact]
    public async Task Racing_writers_that_retry_on_conflict_all_get_through_one_version_each()
    {
        // What silos do: read, write, and on a conflict read again.
        var writers = Enumerable.Range(0, 10).Select(i => Task.Run(async () =>
        {
            while (true)
            {
                var read = await Table.ReadAllAsync();
                if (await Table.InsertRowAsync(Entry(Silo(400 + i)), read.Version.Next()))
                {
                    return;
                }
            }
        }));
        await Task.WhenAll(writers);

        var after = await Table.ReadAllAsync();
        Assert.Equal(10, after.Rows.Count);
        Assert.Equal(10, after.Version.Version);
    }

    protected static async Task InsertAsync(IMembershipTable table, MembershipEntry entry)
    {
        var read = await table.ReadAllAsync();
        Assert.True(await table.InsertRowAsync(entry, read.Version.Next()), $"insert of {entry.Silo} failed");
    }
}
