using FsCheck;
using FsCheck.Fluent;
using Platform.Grains.Keys;

namespace Platform.Grains.Tests.Keys;

public sealed class KeyStoreSnapshotTests
{
    private static readonly string[] s_keys = ["/a", "/a/b", "/a/b/c", "/_h", "/d/_x", "/d/e", "/q", "/ключ/😀", "/a/b/c/d"];

    /// <summary>Applies one operation chosen by <paramref name="code"/>; a refusal is an outcome too, so it is returned as text.</summary>
    private static string Apply(KeyStore store, ManualTime time, int code)
    {
        var key = s_keys[(code >> 4) % s_keys.Length];
        var value = "v" + ((code >> 8) % 5);
        TimeSpan? ttl = ((code >> 12) & 3) == 0 ? TimeSpan.FromSeconds((code >> 14) % 7) : null;
        var flag = ((code >> 20) & 1) == 1;
        try
        {
            var e = (code & 15) switch
            {
                0 or 1 => store.Set(key, value, ttl, dir: flag && ttl is null),
                2 => store.Create(key, value, ttl, dir: flag),
                3 => store.CreateInOrder(key, value, ttl),
                4 => store.Update(key, flag ? "" : value, ttl ?? TimeSpan.FromSeconds(3), refresh: flag),
                5 => store.CompareAndSwap(key, flag ? value : null, flag ? null : (ulong)(code >> 8) % 20, value, ttl),
                6 => store.Delete(key, dir: flag, recursive: ((code >> 21) & 1) == 1),
                7 => store.CompareAndDelete(key, flag ? value : null, flag ? null : (ulong)(code >> 8) % 20),
                8 => store.Get(key, recursive: flag, sorted: true),
                9 => store.ScanHistory(key, flag, (ulong)(code >> 8) % 30),
                10 => Expire(store, time, TimeSpan.FromSeconds((code >> 8) % 4)),
                _ => store.Get("/", recursive: true, sorted: true),
            };
            return Describe(e);
        }
        catch (KeyException e)
        {
            return $"error {(int)e.Code} {e.Cause} @{e.Index}";
        }
    }

    private static KeyEvent? Expire(KeyStore store, ManualTime time, TimeSpan by)
    {
        var expired = store.Expire(time.Advance(by));
        return expired.Count == 0 ? null : expired[^1];
    }

    private static string Describe(KeyEvent? e) =>
        e is null ? "none" : $"{e.ActionName} {Describe(e.Node)} prev {(e.PrevNode is null ? "-" : Describe(e.PrevNode))} @{e.EtcdIndex}{(e.Refresh ? " refresh" : "")}";

    private static string Describe(KeyNodeSnapshot n) =>
        $"[{n.Key} {(n.Dir ? n.Implicit ? "implicit dir" : "dir" : n.Value ?? "null")} {n.CreatedIndex}/{n.ModifiedIndex} {n.Expiration?.UtcTicks}/{n.Ttl}"
        + (n.Nodes is null ? "" : " {" + string.Join(",", n.Nodes.Select(Describe)) + "}") + "]";

    /// <summary>Everything observable about a store: index, tree (hidden keys included), expiry and history.</summary>
    private static string Observe(KeyStore store)
    {
        var parts = new List<string> { $"index {store.CurrentIndex}", $"next {store.NextExpiration?.UtcTicks}", Describe(store.Get("/", true, true)) };
        foreach (var key in s_keys)
        {
            try
            {
                parts.Add(Describe(store.Get(key, true, true)));
            }
            catch (KeyException e)
            {
                parts.Add($"{key}: {(int)e.Code}");
            }
        }
        parts.Add($"history {store.History.StartIndex}..{store.History.LastIndex}");
        for (var i = 0; i < store.History.Count; i++) parts.Add(Describe(store.History[i]));
        return string.Join("\n", parts);
    }

    private static void AssertRoundTrip(int[] codes, int capacity)
    {
        var time = new ManualTime();
        var options = capacity;
        var store = new KeyStore(options, time);
        var half = codes.Length / 2;
        for (var i = 0; i < half; i++) Apply(store, time, codes[i]);

        var bytes = KeyStoreSnapshot.Save(store);
        var loaded = KeyStoreSnapshot.Load(bytes, options, time);
        Assert.Equal(Observe(store), Observe(loaded));
        Assert.Equal(bytes, KeyStoreSnapshot.Save(loaded));

        // The loaded store behaves as the original from here on, including what expires and when.
        for (var i = half; i < codes.Length; i++)
        {
            var expected = Apply(store, time, codes[i]);
            // Both stores share the clock: advance it once, then let the copy catch up on the same instant.
            var actual = (codes[i] & 15) == 10 ? Describe(LastOrNull(loaded.Expire(time.GetUtcNow()))) : Apply(loaded, time, codes[i]);
            Assert.Equal(expected, actual);
        }
        Assert.Equal(Observe(store), Observe(loaded));
    }

    private static KeyEvent? LastOrNull(IReadOnlyList<KeyEvent> events) => events.Count == 0 ? null : events[^1];

    [Fact]
    public void Snapshot_round_trip_preserves_the_store_for_random_operation_sequences()
    {
        var operations = Gen.Choose(0, int.MaxValue).ArrayOf();
        Prop.ForAll(operations.ToArbitrary(), (int[] codes) => AssertRoundTrip(codes, capacity: 8))
            .Check(Config.QuickThrowOnFailure.WithMaxTest(300).WithEndSize(200));
    }

    [Fact]
    public void Snapshot_round_trip_of_a_long_fixed_history()
    {
        var random = new Random(1234);
        var codes = Enumerable.Range(0, 4000).Select(_ => random.Next()).ToArray();
        AssertRoundTrip(codes, capacity: 1000);
    }

    [Fact]
    public void Same_operations_on_the_same_clock_give_the_same_bytes()
    {
        byte[] Run()
        {
            var time = new ManualTime();
            var store = new KeyStore(KeyStore.DefaultHistoryCapacity, time);
            var random = new Random(99);
            for (var i = 0; i < 500; i++) Apply(store, time, random.Next());
            return KeyStoreSnapshot.Save(store);
        }
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Loading_with_a_smaller_history_keeps_the_newest_events()
    {
        var store = new KeyStore();
        for (var i = 1; i <= 50; i++) store.Set("/k", i.ToString());
        var loaded = KeyStoreSnapshot.Load(KeyStoreSnapshot.Save(store), 10);
        Assert.Equal(10, loaded.History.Count);
        Assert.Equal(41ul, loaded.History.StartIndex);
        Assert.Equal(50ul, loaded.CurrentIndex);
        Assert.Equal("the requested history has been cleared [41/40]", Assert.Throws<KeyException>(() => loaded.ScanHistory("/k", false, 40)).Cause);
        Assert.Equal("51", loaded.Set("/k", "51").Node.Value);
        Assert.Equal(51ul, loaded.CurrentIndex);
    }

    [Fact]
    public void An_empty_store_round_trips()
    {
        var loaded = KeyStoreSnapshot.Load(KeyStoreSnapshot.Save(new KeyStore()));
        Assert.Equal(0ul, loaded.CurrentIndex);
        Assert.Empty(loaded.Get("/").Node.Nodes!);
        Assert.Equal(1ul, loaded.Set("/k", "v").Index);
    }

    [Fact]
    public void Ttls_survive_a_round_trip_and_expire_on_time_after_it()
    {
        var time = new ManualTime();
        var store = new KeyStore(timeProvider: time);
        store.Set("/lease", "me", TimeSpan.FromSeconds(10));
        var loaded = KeyStoreSnapshot.Load(KeyStoreSnapshot.Save(store), timeProvider: time);
        Assert.Equal(ManualTime.Epoch.AddSeconds(10), loaded.NextExpiration);
        Assert.Empty(loaded.Expire(ManualTime.Epoch.AddSeconds(9)));
        Assert.Equal("/lease", Assert.Single(loaded.Expire(ManualTime.Epoch.AddSeconds(10))).Node.Key);
    }

    [Fact]
    public void Every_truncation_of_a_snapshot_fails_with_a_clear_error()
    {
        var time = new ManualTime();
        var store = new KeyStore(timeProvider: time);
        store.Set("/a/b", "value", TimeSpan.FromSeconds(5));
        store.Set("/a/_c", "ключ");
        store.Get("/a", recursive: true);
        store.Delete("/a/b");
        var bytes = KeyStoreSnapshot.Save(store);

        for (var length = 0; length < bytes.Length; length++)
        {
            var e = Assert.Throws<InvalidDataException>(() => KeyStoreSnapshot.Load(bytes.AsSpan(0, length)));
            Assert.StartsWith("keyspace snapshot is corrupt at byte", e.Message);
        }
    }

    [Fact]
    public void Foreign_or_damaged_bytes_are_refused()
    {
        var bytes = KeyStoreSnapshot.Save(new KeyStore());
        Assert.Contains("not a keyspace snapshot", Assert.Throws<InvalidDataException>(() => KeyStoreSnapshot.Load("{}"u8)).Message);

        var future = (byte[])bytes.Clone();
        future[3] = 99;
        Assert.Contains("version 99 is not supported", Assert.Throws<InvalidDataException>(() => KeyStoreSnapshot.Load(future)).Message);

        Assert.Contains("unexpected bytes", Assert.Throws<InvalidDataException>(() => KeyStoreSnapshot.Load([.. bytes, 0])).Message);
    }

    [Fact]
    public void Random_corruption_never_yields_anything_but_a_store_or_InvalidDataException()
    {
        var time = new ManualTime();
        var store = new KeyStore(timeProvider: time);
        var random = new Random(7);
        for (var i = 0; i < 200; i++) Apply(store, time, random.Next());
        var bytes = KeyStoreSnapshot.Save(store);

        for (var trial = 0; trial < 2000; trial++)
        {
            var damaged = (byte[])bytes.Clone();
            damaged[random.Next(damaged.Length)] ^= (byte)(1 << random.Next(8));
            try
            {
                KeyStoreSnapshot.Load(damaged);
            }
            catch (InvalidDataException)
            {
            }
        }
    }
}
