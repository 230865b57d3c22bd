using Platform.Grains.Keys;

namespace Platform.Grains.Tests.Keys;

public sealed class EventHistoryTests
{
    private readonly ManualTime _time = new();

    private KeyStore NewStore(int history = 1000) => new(history, _time);

    [Fact]
    public void Watch_with_waitIndex_older_than_history_returns_401_with_etcd_cause()
    {
        var store = NewStore();
        for (var i = 0; i < 2007; i++) store.Set("/busy", i.ToString());

        Assert.Equal(1008ul, store.History.StartIndex);
        var e = Assert.Throws<KeyException>(() => store.ScanHistory("/quiet", false, 8));
        Assert.Equal(KeyErrorCode.EventIndexCleared, e.Code);
        Assert.Equal(401, (int)e.Code);
        Assert.Equal("The event in requested index is outdated and cleared", e.EtcdMessage);
        Assert.Equal("the requested history has been cleared [1008/8]", e.Cause);
        Assert.Equal(2007ul, e.Index);
        Assert.Equal(400, e.HttpStatus);
    }

    [Fact]
    public void Watch_with_waitIndex_at_the_oldest_remembered_event_still_finds_it()
    {
        var store = NewStore(history: 10);
        for (var i = 1; i <= 25; i++) store.Set("/k", i.ToString());

        Assert.Equal(10, store.History.Count);
        Assert.Equal(16ul, store.History.StartIndex);
        Assert.Equal("16", store.ScanHistory("/k", false, 16)!.Node.Value);
        Assert.Equal("the requested history has been cleared [16/15]", Assert.Throws<KeyException>(() => store.ScanHistory("/k", false, 15)).Cause);
    }

    [Fact]
    public void A_larger_history_window_is_configurable()
    {
        var store = NewStore(history: 5000);
        for (var i = 0; i < 4000; i++) store.Set("/busy", "x");
        store.Set("/quiet", "v");
        for (var i = 0; i < 999; i++) store.Set("/busy", "x");

        Assert.Equal(5000, store.History.Count);
        Assert.Equal(1ul, store.History.StartIndex);
        Assert.Equal(4001ul, store.ScanHistory("/quiet", false, 1)!.Index);
    }

    [Fact]
    public void Watch_with_waitIndex_returns_the_first_matching_event_at_or_after_it_even_if_past()
    {
        var store = NewStore();
        store.Set("/k", "1");     // 1
        store.Set("/other", "x"); // 2
        store.Set("/k", "2");     // 3
        store.Set("/k", "3");     // 4

        Assert.Equal("1", store.ScanHistory("/k", false, 1)!.Node.Value);
        Assert.Equal("2", store.ScanHistory("/k", false, 2)!.Node.Value);
        Assert.Equal("2", store.ScanHistory("/k", false, 3)!.Node.Value);
        Assert.Equal("3", store.ScanHistory("/k", false, 4)!.Node.Value);
        Assert.Null(store.ScanHistory("/k", false, 5));
        Assert.Null(store.ScanHistory("/k", false, 500));
    }

    [Fact]
    public void Watch_without_waitIndex_waits_for_the_next_change()
    {
        var store = NewStore();
        store.Set("/k", "1");
        Assert.Null(store.ScanHistory("/k", false, 0));
    }

    [Fact]
    public void Non_recursive_watch_sees_only_its_own_key()
    {
        var store = NewStore();
        store.Set("/dir/child", "1");
        store.Set("/dirx", "1");
        Assert.Null(store.ScanHistory("/dir", false, 1));
        store.Update("/dir", "", TimeSpan.FromSeconds(5));
        Assert.Equal(3ul, store.ScanHistory("/dir", false, 1)!.Index);
    }

    [Fact]
    public void Recursive_watch_sees_child_changes_and_ancestor_delete()
    {
        var store = NewStore();
        store.Set("/app/config/a", "1"); // 1
        store.Set("/apple", "x");        // 2: a sibling with a common prefix is not a child
        store.Set("/app/config/b", "2"); // 3
        store.Delete("/app", recursive: true); // 4

        Assert.Equal("/app/config/a", store.ScanHistory("/app", true, 1)!.Node.Key);
        Assert.Equal("/app/config/b", store.ScanHistory("/app", true, 2)!.Node.Key);
        Assert.Equal("/app/config/b", store.ScanHistory("/app/config", true, 2)!.Node.Key);

        // The delete of /app wakes watchers of /app itself and of anything below it, recursive or not,
        // including keys that no longer (or never did) exist there.
        Assert.Equal(4ul, store.ScanHistory("/app", false, 4)!.Index);
        Assert.Equal(4ul, store.ScanHistory("/app/config/a", false, 4)!.Index);
        Assert.Equal(4ul, store.ScanHistory("/app/config/never", false, 4)!.Index);
        Assert.Equal(KeyAction.Delete, store.ScanHistory("/app/config", true, 4)!.Action);
        Assert.Null(store.ScanHistory("/apple", false, 3));
    }

    [Fact]
    public void Deleting_a_key_does_not_wake_watchers_of_keys_that_merely_share_its_prefix()
    {
        var store = NewStore();
        store.Set("/foo/x", "1");
        store.Set("/foobar", "1");
        store.Delete("/foo", recursive: true);
        Assert.Null(store.ScanHistory("/foobar", false, 3));
        Assert.Null(store.ScanHistory("/foobar", true, 3));
    }

    [Fact]
    public void Deleting_a_key_that_is_not_a_directory_does_not_wake_watchers_below_its_name()
    {
        var store = NewStore();
        store.Set("/k", "v");
        store.Delete("/k");
        Assert.Null(store.ScanHistory("/k/below", false, 2));
    }

    [Fact]
    public void Ancestor_expiry_wakes_watchers_below_it()
    {
        var store = NewStore();
        store.Set("/lease", "", TimeSpan.FromSeconds(1), dir: true);
        store.Set("/lease/holder", "me");
        store.Expire(ManualTime.Epoch.AddSeconds(1));
        var e = store.ScanHistory("/lease/holder", false, 3)!;
        Assert.Equal(KeyAction.Expire, e.Action);
        Assert.Equal("/lease", e.Node.Key);
    }

    [Fact]
    public void Recursive_watch_on_the_root_sees_every_visible_change()
    {
        var store = NewStore();
        store.Set("/_hidden", "1");
        store.Set("/a/b", "1");
        Assert.Equal("/a/b", store.ScanHistory("/", true, 1)!.Node.Key);
        Assert.Null(store.ScanHistory("/", false, 1));
    }

    [Fact]
    public void Recursive_watch_does_not_see_hidden_keys_below_it_but_a_watch_on_the_hidden_key_does()
    {
        var store = NewStore();
        store.Set("/d/_lock", "1");      // 1
        store.Set("/d/_locks/a", "1");   // 2
        store.Set("/d/visible", "1");    // 3

        Assert.Equal("/d/visible", store.ScanHistory("/d", true, 1)!.Node.Key);
        Assert.Equal("/d/_lock", store.ScanHistory("/d/_lock", false, 1)!.Node.Key);
        Assert.Equal("/d/_locks/a", store.ScanHistory("/d/_locks", true, 1)!.Node.Key);
    }

    [Fact]
    public void Compare_and_delete_and_in_order_creates_are_seen_by_watchers()
    {
        var store = NewStore();
        store.Set("/k", "v");
        store.CompareAndDelete("/k", "v", null);
        store.CreateInOrder("/q", "job");
        Assert.Equal(KeyAction.CompareAndDelete, store.ScanHistory("/k", false, 2)!.Action);
        Assert.Equal("/q/00000000000000000003", store.ScanHistory("/q", true, 2)!.Node.Key);
    }

    [Fact]
    public void History_remembers_the_latest_events_oldest_first()
    {
        var store = NewStore(history: 3);
        for (var i = 1; i <= 5; i++) store.Set("/k", i.ToString());
        var history = store.History;
        Assert.Equal(3, history.Capacity);
        Assert.Equal(3, history.Count);
        Assert.Equal(3ul, history.StartIndex);
        Assert.Equal(5ul, history.LastIndex);
        Assert.Equal(["3", "4", "5"], Enumerable.Range(0, 3).Select(i => history[i].Node.Value));
        Assert.Throws<ArgumentOutOfRangeException>(() => history[3]);
    }

    [Fact]
    public void History_capacity_must_be_positive()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new KeyStore(0));
    }

    [Fact]
    public void An_empty_history_finds_nothing_and_clears_nothing()
    {
        var history = NewStore().History;
        Assert.Equal(0, history.Count);
        Assert.Equal(0ul, history.StartIndex);
        Assert.Null(history.Scan("/k", true, 0));
        Assert.Null(history.Scan("/k", true, 1));
    }

    [Fact]
    public void Watch_events_keep_the_store_index_of_their_own_change()
    {
        var store = NewStore();
        store.Set("/k", "1");
        store.Set("/k", "2");
        store.Set("/j", "3");
        var e = store.ScanHistory("/k", false, 1)!;
        Assert.Equal(1ul, e.EtcdIndex);
        Assert.Null(e.PrevNode);
        Assert.Equal("1", store.ScanHistory("/k", false, 2)!.PrevNode!.Value);
    }
}
