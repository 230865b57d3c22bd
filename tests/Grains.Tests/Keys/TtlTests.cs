using Platform.Grains.Keys;

namespace Platform.Grains.Tests.Keys;

public sealed class TtlTests
{
    private static readonly TimeSpan Second = TimeSpan.FromSeconds(1);

    private readonly ManualTime _time = new();

    private KeyStore NewStore() => new(KeyStore.DefaultHistoryCapacity, _time);

    [Fact]
    public void Ttl_gives_the_node_an_expiration_and_seconds_left_rounded_up()
    {
        var store = NewStore();
        var e = store.Set("/k", "v", TimeSpan.FromSeconds(10));
        Assert.Equal(ManualTime.Epoch.AddSeconds(10), e.Node.Expiration);
        Assert.Equal(TimeSpan.Zero, e.Node.Expiration!.Value.Offset);
        Assert.Equal(10, e.Node.Ttl);

        _time.Advance(TimeSpan.FromSeconds(3.5));
        var got = store.Get("/k").Node;
        Assert.Equal(7, got.Ttl);
        Assert.Equal(ManualTime.Epoch.AddSeconds(10), got.Expiration);
        Assert.Equal(ManualTime.Epoch.AddSeconds(10), store.NextExpiration);
    }

    [Fact]
    public void Nodes_without_ttl_have_no_expiration()
    {
        var store = NewStore();
        var node = store.Set("/k", "v").Node;
        Assert.Null(node.Expiration);
        Assert.Equal(0, node.Ttl);
        Assert.Null(store.NextExpiration);
    }

    [Fact]
    public void A_key_expires_when_its_ttl_has_passed_and_not_before()
    {
        var store = NewStore();
        store.Set("/k", "v", TimeSpan.FromSeconds(5));

        Assert.Empty(store.Expire(ManualTime.Epoch.AddSeconds(5) - TimeSpan.FromTicks(1)));
        Assert.Equal("v", store.Get("/k").Node.Value);

        var expired = Assert.Single(store.Expire(ManualTime.Epoch.AddSeconds(5)));
        Assert.Equal(KeyAction.Expire, expired.Action);
        Assert.Equal("expire", expired.ActionName);
        Assert.Equal("/k", expired.Node.Key);
        Assert.Null(expired.Node.Value);
        Assert.Equal(2ul, expired.Node.ModifiedIndex);
        Assert.Equal(1ul, expired.Node.CreatedIndex);
        Assert.Equal("v", expired.PrevNode!.Value);
        Assert.Equal(ManualTime.Epoch.AddSeconds(5), expired.PrevNode.Expiration);
        Assert.Equal(2ul, store.CurrentIndex);
        Assert.Throws<KeyException>(() => store.Get("/k"));
        Assert.Null(store.NextExpiration);
    }

    [Fact]
    public void Expire_produces_expire_events_in_order()
    {
        var store = NewStore();
        store.Set("/five", "5", TimeSpan.FromSeconds(5));
        store.Set("/three", "3", TimeSpan.FromSeconds(3));
        store.Set("/forever", "f");
        store.Set("/four", "4", TimeSpan.FromSeconds(4));
        store.Set("/b-tie", "t", TimeSpan.FromSeconds(4));
        Assert.Equal(ManualTime.Epoch.AddSeconds(3), store.NextExpiration);

        var expired = store.Expire(ManualTime.Epoch.AddSeconds(60));

        Assert.Equal(["/three", "/b-tie", "/four", "/five"], expired.Select(e => e.Node.Key));
        Assert.Equal([6ul, 7ul, 8ul, 9ul], expired.Select(e => e.Index));
        Assert.All(expired, e => Assert.Equal(KeyAction.Expire, e.Action));
        Assert.Equal(9ul, store.CurrentIndex);
        Assert.Equal(["/forever"], store.Get("/").Node.Nodes!.Select(n => n.Key));
        Assert.Equal(expired, Enumerable.Range(5, 4).Select(i => store.History[i]));
    }

    [Fact]
    public void Expire_in_steps_takes_only_what_is_due()
    {
        var store = NewStore();
        store.Set("/a", "", TimeSpan.FromSeconds(1));
        store.Set("/b", "", TimeSpan.FromSeconds(2));
        Assert.Equal(["/a"], store.Expire(ManualTime.Epoch.AddSeconds(1.5)).Select(e => e.Node.Key));
        Assert.Equal(ManualTime.Epoch.AddSeconds(2), store.NextExpiration);
        Assert.Equal(["/b"], store.Expire(ManualTime.Epoch.AddSeconds(2)).Select(e => e.Node.Key));
        Assert.Empty(store.Expire(ManualTime.Epoch.AddSeconds(100)));
    }

    [Fact]
    public void A_directory_with_a_ttl_expires_with_everything_in_it_as_one_event()
    {
        var store = NewStore();
        store.Set("/d", "", TimeSpan.FromSeconds(10), dir: true);
        store.Set("/d/a", "1");
        store.Set("/d/sub/b", "2", TimeSpan.FromSeconds(20));

        var expired = Assert.Single(store.Expire(ManualTime.Epoch.AddSeconds(10)));
        Assert.True(expired.Node.Dir);
        Assert.True(expired.PrevNode!.Dir);
        Assert.Equal("/d", expired.Node.Key);
        Assert.Throws<KeyException>(() => store.Get("/d/a"));
        Assert.Null(store.NextExpiration);
        Assert.Empty(store.Expire(ManualTime.Epoch.AddSeconds(30)));
    }

    [Fact]
    public void Zero_ttl_expires_at_the_next_expiry_pass()
    {
        var store = NewStore();
        var e = store.Set("/k", "v", TimeSpan.Zero);
        Assert.Equal(0, e.Node.Ttl);
        Assert.Equal(ManualTime.Epoch, e.Node.Expiration);
        Assert.Single(store.Expire(ManualTime.Epoch));
    }

    [Fact]
    public void Negative_or_huge_ttl_fails_with_202_and_changes_nothing()
    {
        var store = NewStore();
        var e = Assert.Throws<KeyException>(() => store.Set("/k", "v", TimeSpan.FromSeconds(-1)));
        Assert.Equal(KeyErrorCode.TtlNaN, e.Code);
        Assert.Contains("-1 seconds is negative", e.Cause);
        Assert.Equal(KeyErrorCode.TtlNaN, Assert.Throws<KeyException>(() => store.Set("/k", "v", TimeSpan.MaxValue)).Code);
        Assert.Equal(0ul, store.CurrentIndex);
    }

    [Fact]
    public void Update_without_ttl_removes_the_ttl()
    {
        var store = NewStore();
        store.Set("/k", "v", TimeSpan.FromSeconds(5));
        var e = store.Update("/k", "w");
        Assert.Null(e.Node.Expiration);
        Assert.Equal(ManualTime.Epoch.AddSeconds(5), e.PrevNode!.Expiration);
        Assert.Null(store.NextExpiration);
        Assert.Empty(store.Expire(ManualTime.Epoch.AddSeconds(100)));
        Assert.Equal("w", store.Get("/k").Node.Value);
    }

    [Fact]
    public void Update_with_ttl_replaces_the_ttl()
    {
        var store = NewStore();
        store.Set("/k", "v", TimeSpan.FromSeconds(5));
        store.Set("/j", "v");
        store.Update("/j", "v", TimeSpan.FromSeconds(1));
        var e = store.Update("/k", "w", TimeSpan.FromSeconds(60));
        Assert.Equal(60, e.Node.Ttl);
        Assert.Equal(["/j"], store.Expire(ManualTime.Epoch.AddSeconds(30)).Select(x => x.Node.Key));
        Assert.Equal(["/k"], store.Expire(ManualTime.Epoch.AddSeconds(60)).Select(x => x.Node.Key));
    }

    [Fact]
    public void Set_without_ttl_over_a_key_with_ttl_makes_it_permanent()
    {
        var store = NewStore();
        store.Set("/k", "v", TimeSpan.FromSeconds(5));
        store.Set("/k", "w");
        Assert.Null(store.NextExpiration);
        Assert.Empty(store.Expire(ManualTime.Epoch.AddSeconds(10)));
    }

    [Fact]
    public void CAS_sets_or_clears_the_ttl_like_update()
    {
        var store = NewStore();
        store.Set("/k", "1");
        Assert.Equal(9, store.CompareAndSwap("/k", "1", null, "2", TimeSpan.FromSeconds(9)).Node.Ttl);
        Assert.Equal(ManualTime.Epoch.AddSeconds(9), store.NextExpiration);
        Assert.Null(store.CompareAndSwap("/k", "2", null, "3").Node.Expiration);
        Assert.Null(store.NextExpiration);
    }

    [Fact]
    public void Deleting_a_key_with_ttl_cancels_its_expiry()
    {
        var store = NewStore();
        store.Set("/k", "v", TimeSpan.FromSeconds(5));
        store.Delete("/k");
        Assert.Null(store.NextExpiration);
        Assert.Empty(store.Expire(ManualTime.Epoch.AddSeconds(10)));
    }

    [Fact]
    public void Refresh_resets_ttl_without_an_event_for_watchers()
    {
        var store = NewStore();
        store.Set("/k", "v", TimeSpan.FromSeconds(5));
        _time.Advance(TimeSpan.FromSeconds(4));

        var e = store.Update("/k", "", TimeSpan.FromSeconds(5), refresh: true);

        Assert.True(e.Refresh);
        Assert.Equal(KeyAction.Update, e.Action);
        Assert.Equal("v", e.Node.Value);
        Assert.Equal(5, e.Node.Ttl);
        Assert.Equal(1, e.PrevNode!.Ttl);
        Assert.Equal(2ul, e.Index);
        Assert.Equal(2ul, store.CurrentIndex); // a refresh still takes an index...
        Assert.Same(e, store.History[1]);
        Assert.False(e.IsVisibleTo("/k", recursive: false)); // ...but wakes nobody
        Assert.Null(store.ScanHistory("/k", false, 2));
        Assert.Null(store.ScanHistory("/", true, 2));

        Assert.Empty(store.Expire(ManualTime.Epoch.AddSeconds(8)));
        Assert.Equal("v", store.Get("/k").Node.Value);
        var expired = Assert.Single(store.Expire(ManualTime.Epoch.AddSeconds(9)));
        Assert.Same(expired, store.ScanHistory("/k", false, 2));
    }

    [Fact]
    public void Refresh_through_set_and_cas_keeps_the_value_and_wakes_nobody()
    {
        var store = NewStore();
        store.Set("/k", "v", TimeSpan.FromSeconds(5));
        var set = store.Set("/k", "", TimeSpan.FromSeconds(50), refresh: true);
        Assert.True(set.Refresh);
        Assert.Equal("v", set.Node.Value);
        Assert.Equal(50, set.Node.Ttl);

        var cas = store.CompareAndSwap("/k", "v", null, "", TimeSpan.FromSeconds(70), refresh: true);
        Assert.True(cas.Refresh);
        Assert.Equal(KeyAction.CompareAndSwap, cas.Action);
        Assert.Equal("v", cas.Node.Value);
        Assert.Equal(70, cas.Node.Ttl);
        Assert.Null(store.ScanHistory("/k", false, 2));
    }

    [Fact]
    public void Refresh_with_a_value_fails_with_211_and_without_ttl_with_212()
    {
        var store = NewStore();
        store.Set("/k", "v", TimeSpan.FromSeconds(5));
        var value = Assert.Throws<KeyException>(() => store.Update("/k", "new", TimeSpan.FromSeconds(5), refresh: true));
        Assert.Equal(KeyErrorCode.RefreshValue, value.Code);
        Assert.Equal("A value was provided on a refresh", value.Cause);
        var ttl = Assert.Throws<KeyException>(() => store.Update("/k", "", null, refresh: true));
        Assert.Equal(KeyErrorCode.RefreshTtlRequired, ttl.Code);
        Assert.Equal("No TTL value set", ttl.Cause);
        Assert.Equal(1ul, store.CurrentIndex);
    }

    [Fact]
    public void Refresh_of_a_missing_key_fails_with_100()
    {
        var store = NewStore();
        Assert.Equal(KeyErrorCode.KeyNotFound, Assert.Throws<KeyException>(() => store.Set("/k", "", Second, refresh: true)).Code);
        Assert.Equal(KeyErrorCode.KeyNotFound, Assert.Throws<KeyException>(() => store.Update("/k", "", Second, refresh: true)).Code);
    }

    [Fact]
    public void In_order_keys_and_created_keys_accept_a_ttl()
    {
        var store = NewStore();
        Assert.Equal(3, store.CreateInOrder("/q", "job", TimeSpan.FromSeconds(3)).Node.Ttl);
        Assert.Equal(4, store.Create("/c", "x", TimeSpan.FromSeconds(4)).Node.Ttl);
        Assert.Equal(2, store.Expire(ManualTime.Epoch.AddSeconds(4)).Count);
        Assert.Empty(store.Get("/q").Node.Nodes!);
    }
}
