using Platform.Grains.Keys;

namespace Platform.Grains.Tests.Keys;

/// <summary>Journal records: every write round-trips, and replaying records at their times rebuilds the same store.</summary>
public sealed class KeyRecordTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 22, 1, 2, 3, TimeSpan.Zero);

    public static TheoryData<KeyRequest> Requests() =>
    [
        new KeyRequest { Op = KeyOp.Set, Key = "/a", Value = "v" },
        new KeyRequest { Op = KeyOp.Set, Key = "/dir", Dir = true, Ttl = TimeSpan.FromSeconds(30) },
        new KeyRequest { Op = KeyOp.Set, Key = "/a", Refresh = true, Ttl = TimeSpan.FromSeconds(5) },
        new KeyRequest { Op = KeyOp.Create, Key = "/é/ключ", Value = "значение \u2028 <&>", Flags = ulong.MaxValue },
        new KeyRequest { Op = KeyOp.CreateInOrder, Key = "/queue", Value = "job" },
        new KeyRequest { Op = KeyOp.Update, Key = "/a", Value = "" },
        new KeyRequest { Op = KeyOp.CompareAndSwap, Key = "/a", PrevValue = "old", PrevIndex = 42, Value = "new", Flags = 7 },
        new KeyRequest { Op = KeyOp.Delete, Key = "/dir", Dir = true, Recursive = true },
        new KeyRequest { Op = KeyOp.CompareAndDelete, Key = "/a", PrevIndex = 3 },
        new KeyRequest { Op = KeyOp.DeletePrefix, Key = "/a/b" },
    ];

    [Theory]
    [MemberData(nameof(Requests))]
    public void A_record_reads_back_as_the_request_it_was_written_from(KeyRequest request)
    {
        var (read, at) = KeyRecord.Read(KeyRecord.Write(request, T0));
        Assert.Equal(T0, at);
        Assert.Equivalent(request, read, strict: true);
    }

    [Fact]
    public void An_expiry_record_holds_its_time_only()
    {
        var (read, at) = KeyRecord.Read(KeyRecord.WriteExpiry(T0));
        Assert.Equal(KeyOp.Expire, read.Op);
        Assert.Equal(T0, at);
    }

    [Fact]
    public void A_damaged_record_is_refused_with_what_is_wrong()
    {
        var good = KeyRecord.Write(new KeyRequest { Op = KeyOp.Set, Key = "/a", Value = "v" }, T0);
        Assert.Contains("truncated", Assert.Throws<InvalidDataException>(() => KeyRecord.Read(good.AsSpan(0, good.Length - 1))).Message);
        var badOp = (byte[])good.Clone();
        badOp[1] = 200;
        Assert.Contains("unknown record op 200", Assert.Throws<InvalidDataException>(() => KeyRecord.Read(badOp)).Message);
        var badVersion = (byte[])good.Clone();
        badVersion[0] = 9;
        Assert.Contains("record version 9", Assert.Throws<InvalidDataException>(() => KeyRecord.Read(badVersion)).Message);
    }

    [Fact]
    public void Replaying_records_at_their_times_rebuilds_the_same_store()
    {
        var time = new ManualTime(T0);
        var live = new KeyStore(KeyStore.DefaultHistoryCapacity, time);
        var journal = new List<byte[]>();
        var random = new Random(7);
        for (var i = 0; i < 500; i++)
        {
            time.Advance(TimeSpan.FromMilliseconds(random.Next(1, 400)));
            var key = $"/k{random.Next(20)}";
            KeyRequest request = random.Next(8) switch
            {
                0 => new KeyRequest { Op = KeyOp.Set, Key = key, Value = i.ToString(), Ttl = TimeSpan.FromSeconds(random.Next(1, 5)) },
                1 => new KeyRequest { Op = KeyOp.Delete, Key = key },
                2 => new KeyRequest { Op = KeyOp.CreateInOrder, Key = "/queue", Value = i.ToString() },
                3 => new KeyRequest { Op = KeyOp.CompareAndSwap, Key = key, PrevIndex = live.CurrentIndex, Value = "cas" + i },
                4 => new KeyRequest { Op = KeyOp.DeletePrefix, Key = "/k1" },
                5 => new KeyRequest { Op = KeyOp.Set, Key = $"/d{random.Next(3)}/x", Value = i.ToString(), Flags = (ulong)i },
                _ => new KeyRequest { Op = KeyOp.Set, Key = key, Value = i.ToString() },
            };
            try
            {
                request.ApplyAllTo(live);
                journal.Add(KeyRecord.Write(request, time.GetUtcNow()));
            }
            catch (KeyException)
            {
                // A failed write changes nothing and is not journaled.
            }
            if (live.NextExpiration is { } next && next <= time.GetUtcNow() && live.Expire(time.GetUtcNow()).Count > 0)
                journal.Add(KeyRecord.WriteExpiry(time.GetUtcNow()));
        }

        var replayTime = new ManualTime(T0);
        var replayed = new KeyStore(KeyStore.DefaultHistoryCapacity, replayTime);
        foreach (var bytes in journal)
        {
            var (request, at) = KeyRecord.Read(bytes);
            replayTime.Set(at);
            if (request.Op == KeyOp.Expire) replayed.Expire(at);
            else request.ApplyAllTo(replayed);
        }
        replayTime.Set(time.GetUtcNow());
        Assert.Equal(live.CurrentIndex, replayed.CurrentIndex);
        Assert.Equal(KeyStoreSnapshot.Save(live), KeyStoreSnapshot.Save(replayed));
    }
}
