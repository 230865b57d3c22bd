using Platform.Grains.Keys;

namespace Platform.Grains.Tests.Keys;

public sealed class KeyStoreTests
{
    private readonly ManualTime _time = new();

    private KeyStore NewStore(int history = 1000) => new(history, _time);

    private static KeyException Fails(KeyErrorCode code, Func<object?> operation)
    {
        var e = Assert.Throws<KeyException>(operation);
        Assert.Equal(code, e.Code);
        return e;
    }

    private static string[] Keys(KeyNodeSnapshot node) => node.Nodes!.Select(n => n.Key).ToArray();

    // --- set / get ---

    [Fact]
    public void Set_creates_a_key_with_the_next_global_index_and_no_prevNode()
    {
        var store = NewStore();
        var e = store.Set("/build_notify", "notify");

        Assert.Equal(KeyAction.Set, e.Action);
        Assert.Equal("set", e.ActionName);
        Assert.Equal("/build_notify", e.Node.Key);
        Assert.Equal("notify", e.Node.Value);
        Assert.Equal(1ul, e.Node.CreatedIndex);
        Assert.Equal(1ul, e.Node.ModifiedIndex);
        Assert.Null(e.PrevNode);
        Assert.True(e.IsCreated);
        Assert.Equal(1ul, e.EtcdIndex);
        Assert.Equal(1ul, store.CurrentIndex);
    }

    [Fact]
    public void A_directory_made_by_writing_below_it_is_implicit_until_a_write_names_it()
    {
        var store = NewStore();
        store.Set("/a/b/c", "v");
        store.Create("/made", "", dir: true);

        Assert.True(store.Get("/a").Node.Implicit);
        Assert.True(store.Get("/a/b").Node.Implicit);
        Assert.False(store.Get("/made").Node.Implicit);
        Assert.False(store.Get("/a/b/c").Node.Implicit);
        // Listed below a directory, the flag is the same.
        Assert.True(store.Get("/", recursive: true).Node.Nodes!.Single(n => n.Key == "/a").Implicit);

        var named = store.Update("/a/b", "");
        Assert.False(named.Node.Implicit);
        Assert.False(store.Get("/a/b").Node.Implicit);
        Assert.True(store.Get("/a").Node.Implicit);

        var loaded = KeyStoreSnapshot.Load(KeyStoreSnapshot.Save(store));
        Assert.True(loaded.Get("/a").Node.Implicit);
        Assert.False(loaded.Get("/a/b").Node.Implicit);
        Assert.False(loaded.Get("/made").Node.Implicit);
        Assert.False(loaded.History.Scan("/a/b", false, named.Index)!.Node.Implicit);
    }

    [Fact]
    public void Set_on_an_existing_key_replaces_it_and_reports_the_old_node()
    {
        var store = NewStore();
        store.Set("/k", "old");
        store.Set("/other", "x");
        var e = store.Set("/k", "new");

        Assert.False(e.IsCreated);
        Assert.Equal("new", e.Node.Value);
        Assert.Equal(3ul, e.Node.ModifiedIndex);
        Assert.Equal(3ul, e.Node.CreatedIndex); // etcd's set replaces the node: a new created index
        Assert.Equal("old", e.PrevNode!.Value);
        Assert.Equal(1ul, e.PrevNode.ModifiedIndex);
        Assert.Equal("new", store.Get("/k").Node.Value);
    }

    [Fact]
    public void Get_returns_the_value_and_the_store_index_without_advancing_it()
    {
        var store = NewStore();
        store.Set("/k", "v");
        store.Set("/j", "w");
        var e = store.Get("k");

        Assert.Equal(KeyAction.Get, e.Action);
        Assert.Equal("/k", e.Node.Key);
        Assert.Equal("v", e.Node.Value);
        Assert.Equal(1ul, e.Index);
        Assert.Equal(2ul, e.EtcdIndex);
        Assert.Equal(2ul, store.CurrentIndex);
        Assert.False(e.IsCreated);
    }

    [Fact]
    public void Get_of_a_missing_key_fails_with_100_naming_the_first_missing_key()
    {
        var store = NewStore();
        store.Set("/a/b", "v");
        var e = Fails(KeyErrorCode.KeyNotFound, () => store.Get("/a/x/y"));
        Assert.Equal("/a/x", e.Cause);
        Assert.Equal(1ul, e.Index);
        Assert.Equal(404, e.HttpStatus);
        Assert.Equal("/nope", Fails(KeyErrorCode.KeyNotFound, () => store.Get("/nope")).Cause);
    }

    [Fact]
    public void Get_through_a_key_fails_with_104_naming_the_key_in_the_way()
    {
        var store = NewStore();
        store.Set("/file", "v");
        var e = Fails(KeyErrorCode.NotDir, () => store.Get("/file/child"));
        Assert.Equal("/file", e.Cause);
        Assert.Equal(400, e.HttpStatus);
    }

    [Fact]
    public void Set_creates_missing_parent_directories_at_the_same_index()
    {
        var store = NewStore();
        var e = store.Set("/a/b/c", "v");
        Assert.Equal(1ul, e.Index);

        var a = store.Get("/a").Node;
        Assert.True(a.Dir);
        Assert.Null(a.Value);
        Assert.Equal(1ul, a.CreatedIndex);
        var b = Assert.Single(a.Nodes!);
        Assert.Equal("/a/b", b.Key);
        Assert.True(b.Dir);
        Assert.Null(b.Nodes); // not recursive: child directories are not expanded
    }

    [Fact]
    public void Set_below_a_key_fails_with_104_and_changes_nothing()
    {
        var store = NewStore();
        store.Set("/file", "v");
        var e = Fails(KeyErrorCode.NotDir, () => store.Set("/file/child/grandchild", "x"));
        Assert.Equal("/file", e.Cause);
        Assert.Equal(1ul, store.CurrentIndex);
        Assert.Equal("v", store.Get("/file").Node.Value);
    }

    [Fact]
    public void Set_on_the_root_fails_with_107()
    {
        var store = NewStore();
        var e = Fails(KeyErrorCode.RootReadOnly, () => store.Set("/", "v"));
        Assert.Equal("/", e.Cause);
        Assert.Equal(400, e.HttpStatus);
        Fails(KeyErrorCode.RootReadOnly, () => store.Set("", "v", dir: true));
    }

    [Fact]
    public void Set_of_a_directory_over_a_directory_fails_with_102()
    {
        var store = NewStore();
        store.Set("/d", "", dir: true);
        var e = Fails(KeyErrorCode.NotFile, () => store.Set("/d", "", dir: true));
        Assert.Equal("/d", e.Cause);
        Fails(KeyErrorCode.NotFile, () => store.Set("/d", "v"));
        Assert.Equal(1ul, store.CurrentIndex);
    }

    [Fact]
    public void Set_with_dir_replaces_a_key_with_an_empty_directory()
    {
        var store = NewStore();
        store.Set("/k", "v");
        var e = store.Set("/k", "ignored", dir: true);
        Assert.True(e.Node.Dir);
        Assert.Null(e.Node.Value);
        Assert.Equal("v", e.PrevNode!.Value);
        Assert.Empty(store.Get("/k").Node.Nodes!);
    }

    [Fact]
    public void Values_may_be_empty_and_any_unicode()
    {
        var store = NewStore();
        Assert.Equal("", store.Set("/empty", "").Node.Value);
        Assert.Equal("a\nb\u0000ключ😀", store.Set("/u", "a\nb\u0000ключ😀").Node.Value);
    }

    [Fact]
    public void Values_with_unpaired_surrogates_are_rejected_with_209()
    {
        var store = NewStore();
        var e = Fails(KeyErrorCode.InvalidField, () => store.Set("/k", "bad\uDC00"));
        Assert.Equal("invalid value for \"/k\": unpaired surrogate U+DC00 at position 3", e.Cause);
        Assert.Equal(0ul, store.CurrentIndex);
    }

    [Fact]
    public void Invalid_keys_fail_with_210_on_every_operation_and_change_nothing()
    {
        var store = NewStore();
        store.Set("/a/b", "v");
        var bad = "/a/../b";
        var operations = new Func<object?>[]
        {
            () => store.Get(bad),
            () => store.Set(bad, "x"),
            () => store.Create(bad, "x"),
            () => store.CreateInOrder(bad, "x"),
            () => store.Update(bad, "x"),
            () => store.CompareAndSwap(bad, "v", null, "x"),
            () => store.Delete(bad),
            () => store.CompareAndDelete(bad, "v", null),
            () => store.ScanHistory(bad, false, 1),
        };
        foreach (var operation in operations)
        {
            var e = Fails(KeyErrorCode.InvalidForm, operation);
            Assert.Equal(1ul, e.Index);
            Assert.Contains("\"/a/../b\"", e.Cause);
        }
        Assert.Equal(1ul, store.CurrentIndex);
        Assert.Equal(1, store.History.Count);
    }

    // --- create (prevExist=false) and in-order keys ---

    [Fact]
    public void Create_makes_a_new_key_with_action_create_and_201()
    {
        var store = NewStore();
        var e = store.Create("/new", "v");
        Assert.Equal(KeyAction.Create, e.Action);
        Assert.Equal("create", e.ActionName);
        Assert.True(e.IsCreated);
        Assert.Null(e.PrevNode);
    }

    [Fact]
    public void Create_on_existing_key_fails_with_105()
    {
        var store = NewStore();
        store.Set("/k", "v");
        var e = Fails(KeyErrorCode.NodeExist, () => store.Create("/k", "w"));
        Assert.Equal("/k", e.Cause);
        Assert.Equal(1ul, e.Index);
        Assert.Equal(412, e.HttpStatus);
        Fails(KeyErrorCode.NodeExist, () => store.Create("/k", "", dir: true));
        Assert.Equal("v", store.Get("/k").Node.Value);
    }

    [Fact]
    public void Create_of_a_directory_makes_an_empty_directory()
    {
        var store = NewStore();
        var e = store.Create("/dir", "", dir: true);
        Assert.True(e.Node.Dir);
        Assert.True(store.Get("/dir").Node.Dir);
    }

    [Fact]
    public void In_order_keys_are_named_by_the_global_index_zero_padded_to_20_digits()
    {
        var store = NewStore();
        store.Set("/other", "x");
        var first = store.CreateInOrder("/queue", "job1");
        var second = store.CreateInOrder("/queue/", "job2");

        Assert.Equal(KeyAction.Create, first.Action);
        Assert.Equal("/queue/00000000000000000002", first.Node.Key);
        Assert.Equal(2ul, first.Node.CreatedIndex);
        Assert.Equal("/queue/00000000000000000003", second.Node.Key);
        var listed = store.Get("/queue", sorted: true).Node;
        Assert.Equal(["/queue/00000000000000000002", "/queue/00000000000000000003"], Keys(listed));
        Assert.Equal(["job1", "job2"], listed.Nodes!.Select(n => n.Value));
    }

    [Fact]
    public void In_order_keys_can_be_made_in_the_root_and_as_directories()
    {
        var store = NewStore();
        Assert.Equal("/00000000000000000001", store.CreateInOrder("/", "v").Node.Key);
        var dir = store.CreateInOrder("/jobs", "", dir: true);
        Assert.True(dir.Node.Dir);
        Assert.Equal("/jobs/00000000000000000002", dir.Node.Key);
    }

    [Fact]
    public void In_order_create_in_a_key_fails_with_104()
    {
        var store = NewStore();
        store.Set("/file", "v");
        Assert.Equal("/file", Fails(KeyErrorCode.NotDir, () => store.CreateInOrder("/file", "x")).Cause);
    }

    // --- update (prevExist=true) ---

    [Fact]
    public void Update_changes_an_existing_key_keeping_its_created_index()
    {
        var store = NewStore();
        store.Set("/k", "one");
        var e = store.Update("/k", "two");
        Assert.Equal(KeyAction.Update, e.Action);
        Assert.Equal("update", e.ActionName);
        Assert.Equal("two", e.Node.Value);
        Assert.Equal(1ul, e.Node.CreatedIndex);
        Assert.Equal(2ul, e.Node.ModifiedIndex);
        Assert.Equal("one", e.PrevNode!.Value);
        Assert.False(e.IsCreated);
    }

    [Fact]
    public void Update_of_a_missing_key_fails_with_100()
    {
        var store = NewStore();
        Assert.Equal("/missing", Fails(KeyErrorCode.KeyNotFound, () => store.Update("/missing", "v")).Cause);
        Assert.Equal(0ul, store.CurrentIndex);
    }

    [Fact]
    public void Update_of_the_root_fails_with_107()
    {
        Fails(KeyErrorCode.RootReadOnly, () => NewStore().Update("/", ""));
    }

    [Fact]
    public void Update_of_a_directory_with_a_value_fails_with_102()
    {
        var store = NewStore();
        store.Set("/d", "", dir: true);
        Assert.Equal("/d", Fails(KeyErrorCode.NotFile, () => store.Update("/d", "v")).Cause);
    }

    [Fact]
    public void Update_of_a_directory_changes_its_ttl_and_reports_the_new_index_but_keeps_its_modified_index_as_etcd_does()
    {
        var store = NewStore();
        store.Set("/d/k", "v");
        var e = store.Update("/d", "", TimeSpan.FromSeconds(30));
        Assert.True(e.Node.Dir);
        Assert.Null(e.Node.Value);
        Assert.Equal(30, e.Node.Ttl);
        Assert.Equal(2ul, e.Node.ModifiedIndex);
        var listed = store.Get("/d").Node;
        Assert.Equal(1ul, listed.ModifiedIndex);
        Assert.Equal(30, listed.Ttl);
        Assert.Single(listed.Nodes!);
    }

    // --- compare and swap ---

    [Fact]
    public void CAS_with_matching_prevValue_swaps()
    {
        var store = NewStore();
        store.Set("/k", "one");
        var e = store.CompareAndSwap("/k", "one", null, "two");
        Assert.Equal(KeyAction.CompareAndSwap, e.Action);
        Assert.Equal("compareAndSwap", e.ActionName);
        Assert.Equal("two", e.Node.Value);
        Assert.Equal(1ul, e.Node.CreatedIndex);
        Assert.Equal(2ul, e.Node.ModifiedIndex);
        Assert.Equal("one", e.PrevNode!.Value);
    }

    [Fact]
    public void CAS_with_matching_prevIndex_swaps()
    {
        var store = NewStore();
        store.Set("/k", "one");
        Assert.Equal("two", store.CompareAndSwap("/k", null, 1, "two").Node.Value);
        Assert.Equal("three", store.CompareAndSwap("/k", "two", 2, "three").Node.Value);
    }

    [Fact]
    public void CAS_with_wrong_prevValue_fails_with_101_and_etcds_cause()
    {
        var store = NewStore();
        store.Set("/k", "one");
        var e = Fails(KeyErrorCode.TestFailed, () => store.CompareAndSwap("/k", "two", null, "three"));
        Assert.Equal("[two != one]", e.Cause);
        Assert.Equal(412, e.HttpStatus);
        Assert.Equal(1ul, e.Index);
        Assert.Equal("one", store.Get("/k").Node.Value);
    }

    [Fact]
    public void CAS_with_wrong_prevIndex_fails_with_101_and_etcds_cause()
    {
        var store = NewStore();
        store.Set("/k", "one");
        Assert.Equal("[5 != 1]", Fails(KeyErrorCode.TestFailed, () => store.CompareAndSwap("/k", null, 5, "x")).Cause);
        Assert.Equal("[5 != 1]", Fails(KeyErrorCode.TestFailed, () => store.CompareAndSwap("/k", "one", 5, "x")).Cause);
        Assert.Equal("[two != one]", Fails(KeyErrorCode.TestFailed, () => store.CompareAndSwap("/k", "two", 1, "x")).Cause);
        Assert.Equal("[two != one] [5 != 1]", Fails(KeyErrorCode.TestFailed, () => store.CompareAndSwap("/k", "two", 5, "x")).Cause);
    }

    [Fact]
    public void CAS_on_directory_fails_with_102()
    {
        var store = NewStore();
        store.Set("/d", "", dir: true);
        var e = Fails(KeyErrorCode.NotFile, () => store.CompareAndSwap("/d", "x", null, "y"));
        Assert.Equal("/d", e.Cause);
        Assert.Equal(403, e.HttpStatus);
    }

    [Fact]
    public void CAS_on_a_missing_key_fails_with_100_and_on_the_root_with_107()
    {
        var store = NewStore();
        Fails(KeyErrorCode.KeyNotFound, () => store.CompareAndSwap("/nope", "x", null, "y"));
        Fails(KeyErrorCode.RootReadOnly, () => store.CompareAndSwap("/", "x", null, "y"));
    }

    [Fact]
    public void CAS_with_an_empty_prevValue_fails_with_201()
    {
        var store = NewStore();
        store.Set("/k", "");
        var e = Fails(KeyErrorCode.PrevValueRequired, () => store.CompareAndSwap("/k", "", null, "y"));
        Assert.Equal("\"prevValue\" cannot be empty", e.Cause);
        Fails(KeyErrorCode.PrevValueRequired, () => store.CompareAndDelete("/k", "", null));
    }

    // --- delete and compare and delete ---

    [Fact]
    public void Delete_removes_a_key_reporting_its_last_state()
    {
        var store = NewStore();
        store.Set("/k", "v");
        var e = store.Delete("/k");
        Assert.Equal(KeyAction.Delete, e.Action);
        Assert.Equal("/k", e.Node.Key);
        Assert.Null(e.Node.Value);
        Assert.False(e.Node.Dir);
        Assert.Equal(2ul, e.Node.ModifiedIndex);
        Assert.Equal(1ul, e.Node.CreatedIndex);
        Assert.Equal("v", e.PrevNode!.Value);
        Assert.Equal(2ul, store.CurrentIndex);
        Fails(KeyErrorCode.KeyNotFound, () => store.Get("/k"));
    }

    [Fact]
    public void Delete_of_a_missing_key_fails_with_100()
    {
        var store = NewStore();
        Assert.Equal("/k", Fails(KeyErrorCode.KeyNotFound, () => store.Delete("/k")).Cause);
    }

    [Fact]
    public void Delete_of_a_directory_without_dir_fails_with_102()
    {
        var store = NewStore();
        store.Set("/d", "", dir: true);
        Assert.Equal("/d", Fails(KeyErrorCode.NotFile, () => store.Delete("/d")).Cause);
    }

    [Fact]
    public void Delete_with_dir_removes_an_empty_directory()
    {
        var store = NewStore();
        store.Set("/d", "", dir: true);
        var e = store.Delete("/d", dir: true);
        Assert.True(e.Node.Dir);
        Assert.True(e.PrevNode!.Dir);
    }

    [Fact]
    public void Delete_of_a_non_empty_directory_without_recursive_fails_with_108()
    {
        var store = NewStore();
        store.Set("/d/_hidden", "v");
        var e = Fails(KeyErrorCode.DirNotEmpty, () => store.Delete("/d", dir: true));
        Assert.Equal("/d", e.Cause);
        Assert.Equal(403, e.HttpStatus);
    }

    [Fact]
    public void Recursive_delete_removes_a_directory_and_everything_in_it_as_one_event()
    {
        var store = NewStore();
        store.Set("/d/a", "1");
        store.Set("/d/sub/b", "2", TimeSpan.FromSeconds(5));
        store.Set("/keep", "3");
        var e = store.Delete("/d", recursive: true);
        Assert.Equal(4ul, e.Index);
        Assert.True(e.Node.Dir);
        Fails(KeyErrorCode.KeyNotFound, () => store.Get("/d"));
        Assert.Equal(["/keep"], Keys(store.Get("/").Node));
        Assert.Null(store.NextExpiration); // the TTL inside went with it
    }

    [Fact]
    public void Delete_of_the_root_fails_with_107()
    {
        var store = NewStore();
        Assert.Equal("/", Fails(KeyErrorCode.RootReadOnly, () => store.Delete("/", recursive: true)).Cause);
    }

    [Fact]
    public void CompareAndDelete_deletes_when_value_or_index_match()
    {
        var store = NewStore();
        store.Set("/a", "one");
        store.Set("/b", "two");
        var e = store.CompareAndDelete("/a", "one", null);
        Assert.Equal(KeyAction.CompareAndDelete, e.Action);
        Assert.Equal("compareAndDelete", e.ActionName);
        Assert.Equal(3ul, e.Node.ModifiedIndex);
        Assert.Equal("one", e.PrevNode!.Value);
        store.CompareAndDelete("/b", null, 2);
        Assert.Empty(store.Get("/").Node.Nodes!);
    }

    [Fact]
    public void CompareAndDelete_with_a_mismatch_fails_with_101_and_keeps_the_key()
    {
        var store = NewStore();
        store.Set("/a", "one");
        Assert.Equal("[two != one]", Fails(KeyErrorCode.TestFailed, () => store.CompareAndDelete("/a", "two", null)).Cause);
        Assert.Equal("[9 != 1]", Fails(KeyErrorCode.TestFailed, () => store.CompareAndDelete("/a", null, 9)).Cause);
        Assert.Equal("one", store.Get("/a").Node.Value);
    }

    [Fact]
    public void CompareAndDelete_on_a_directory_fails_with_102()
    {
        var store = NewStore();
        store.Set("/d", "", dir: true);
        Fails(KeyErrorCode.NotFile, () => store.CompareAndDelete("/d", "x", null));
        Fails(KeyErrorCode.NotFile, () => store.CompareAndDelete("/", "x", null));
    }

    // --- listings ---

    [Fact]
    public void Hidden_keys_are_not_listed()
    {
        var store = NewStore();
        store.Set("/d/visible", "1");
        store.Set("/d/_hidden", "2");
        store.Set("/d/_hiddendir/inner", "3");
        store.Set("/d/sub/_deep", "4");
        store.Set("/d/sub/shown", "5");

        Assert.Equal(["/d/sub", "/d/visible"], Keys(store.Get("/d", sorted: true).Node));
        var recursive = store.Get("/d", recursive: true, sorted: true).Node;
        Assert.Equal(["/d/sub/shown"], Keys(recursive.Nodes!.Single(n => n.Key == "/d/sub")));
        // A hidden key is still readable by name, and a hidden directory lists its own children.
        Assert.Equal("2", store.Get("/d/_hidden").Node.Value);
        Assert.Equal(["/d/_hiddendir/inner"], Keys(store.Get("/d/_hiddendir").Node));
    }

    [Fact]
    public void Sorted_listing_orders_children_by_key_at_every_level()
    {
        var store = NewStore();
        foreach (var name in new[] { "c", "a", "b/z", "b/x", "b/y" }) store.Set("/s/" + name, name);

        var listed = store.Get("/s", recursive: true, sorted: true).Node;
        Assert.Equal(["/s/a", "/s/b", "/s/c"], Keys(listed));
        Assert.Equal(["/s/b/x", "/s/b/y", "/s/b/z"], Keys(listed.Nodes![1]));
    }

    [Fact]
    public void Get_of_the_root_lists_top_level_keys()
    {
        var store = NewStore();
        store.Set("/a", "1");
        store.Set("/b/c", "2");
        var root = store.Get("/", sorted: true).Node;
        Assert.Equal("/", root.Key);
        Assert.True(root.Dir);
        Assert.Equal(["/a", "/b"], Keys(root));
        Assert.Null(root.Nodes![1].Nodes);
        Assert.Equal(["/b/c"], Keys(store.Get("/", recursive: true, sorted: true).Node.Nodes![1]));
    }

    [Fact]
    public void Empty_directory_lists_no_nodes()
    {
        var store = NewStore();
        store.Set("/d", "", dir: true);
        Assert.Empty(store.Get("/d", recursive: true).Node.Nodes!);
    }

    [Fact]
    public void Returned_nodes_are_snapshots_that_later_changes_do_not_touch()
    {
        var store = NewStore();
        store.Set("/d/a", "1");
        var before = store.Get("/d", recursive: true).Node;
        var set = store.Set("/d/a", "2");
        store.Set("/d/b", "3");
        store.Delete("/d/a");

        Assert.Equal("1", before.Nodes!.Single().Value);
        Assert.Equal("2", set.Node.Value);
        Assert.Equal("2", store.History[1].Node.Value);
        Assert.Equal(["/d/b"], Keys(store.Get("/d").Node));
    }

    [Fact]
    public void Every_change_takes_exactly_the_next_index_and_failures_and_reads_take_none()
    {
        var store = NewStore();
        store.Set("/a", "1");
        Assert.ThrowsAny<KeyException>(() => store.Create("/a", "x"));
        store.Create("/b", "1");
        store.Update("/a", "2");
        Assert.ThrowsAny<KeyException>(() => store.CompareAndSwap("/a", "nope", null, "x"));
        store.CompareAndSwap("/a", "2", null, "3");
        store.CreateInOrder("/q", "x");
        Assert.ThrowsAny<KeyException>(() => store.Delete("/q"));
        store.Delete("/b");
        store.CompareAndDelete("/a", "3", null);
        store.Get("/", recursive: true);

        KeyAction[] expected = [KeyAction.Set, KeyAction.Create, KeyAction.Update, KeyAction.CompareAndSwap, KeyAction.Create, KeyAction.Delete, KeyAction.CompareAndDelete];
        Assert.Equal((ulong)expected.Length, store.CurrentIndex);
        Assert.Equal(expected.Length, store.History.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], store.History[i].Action);
            Assert.Equal((ulong)i + 1, store.History[i].Index);
            Assert.Equal((ulong)i + 1, store.History[i].EtcdIndex);
        }
    }
}
