using Platform.Grains.Keys;

namespace Platform.Grains.Tests.Keys;

/// <summary>What the Consul facade needs from the store: client flags, hidden keys in listings, deletes by string prefix.</summary>
public sealed class ConsulShapeTests
{
    private readonly KeyStore _store = new(KeyStore.DefaultHistoryCapacity, new ManualTime());

    [Fact]
    public void Flags_are_kept_by_writes_that_set_them_and_by_snapshots()
    {
        _store.Set("/a", "v", flags: 42);
        _store.CompareAndSwap("/a", "v", null, "w", flags: 43);
        _store.Set("/b", "x");
        Assert.Equal(43ul, _store.Get("/a").Node.Flags);
        Assert.Equal(0ul, _store.Get("/b").Node.Flags);
        var loaded = KeyStoreSnapshot.Load(KeyStoreSnapshot.Save(_store), timeProvider: new ManualTime());
        Assert.Equal(43ul, loaded.Get("/a").Node.Flags);
        Assert.Equal(43ul, loaded.History[loaded.History.Count - 2].Node.Flags);
        Assert.Equal(42ul, loaded.History[loaded.History.Count - 2].PrevNode!.Flags);
    }

    [Fact]
    public void A_refresh_keeps_the_flags()
    {
        _store.Set("/a", "v", TimeSpan.FromSeconds(5), flags: 9);
        _store.Update("/a", "", TimeSpan.FromSeconds(10), refresh: true);
        Assert.Equal(9ul, _store.Get("/a").Node.Flags);
    }

    [Fact]
    public void Hidden_keys_are_listed_only_when_asked()
    {
        _store.Set("/d/_hidden", "h");
        _store.Set("/d/shown", "s");
        Assert.Single(_store.Get("/d").Node.Nodes!);
        Assert.Equal(2, _store.Get("/d", includeHidden: true).Node.Nodes!.Count);
    }

    [Fact]
    public void Delete_by_prefix_takes_every_key_starting_with_the_string_in_key_order()
    {
        _store.Set("/a/b", "1");
        _store.Set("/a/bc", "2");
        _store.Set("/a/b2/x", "3");
        _store.Set("/a/c", "4");
        var events = _store.DeleteByPrefix("/a/b");
        Assert.Equal(["/a/b", "/a/b2", "/a/bc"], events.Select(e => e.Node.Key));
        Assert.Equal([5ul, 6ul, 7ul], events.Select(e => e.Index));
        Assert.All(events, e => Assert.Equal(KeyAction.Delete, e.Action));
        Assert.Equal("4", _store.Get("/a/c").Node.Value);
        Assert.Equal(7ul, _store.CurrentIndex);
    }

    [Fact]
    public void Delete_by_prefix_with_a_trailing_slash_takes_the_directory_and_nothing_else()
    {
        _store.Set("/a/b", "file");
        _store.Set("/a/bdir/x", "1");
        Assert.Empty(_store.DeleteByPrefix("/a/b/"));
        var events = _store.DeleteByPrefix("/a/bdir/");
        Assert.Equal("/a/bdir", Assert.Single(events).Node.Key);
        Assert.Equal("file", _store.Get("/a/b").Node.Value);
    }

    [Fact]
    public void Delete_by_an_empty_prefix_empties_the_keyspace_and_a_missing_prefix_is_no_event()
    {
        _store.Set("/x", "1");
        _store.Set("/y/z", "2");
        Assert.Empty(_store.DeleteByPrefix("/nothing/here"));
        Assert.Equal(2, _store.DeleteByPrefix("/").Count);
        Assert.Empty(_store.Get("/", recursive: true).Node.Nodes!);
    }
}
