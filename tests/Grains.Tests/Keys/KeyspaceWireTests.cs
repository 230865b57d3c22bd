using System.Buffers;
using Platform.Grains.Keys;
using Platform.Runtime.Serialization;

namespace Platform.Grains.Tests.Keys;

/// <summary>What the keyspace grain sends between silos goes through the cluster's codec and comes back whole.</summary>
public sealed class KeyspaceWireTests
{
    private static T RoundTrip<T>(T value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        var writer = new MessageWriter(buffer);
        Codec<T>.Write(ref writer, value);
        writer.Commit();
        var reader = new MessageReader(new ReadOnlySequence<byte>(buffer.WrittenMemory), null!);
        return Codec<T>.Read(ref reader);
    }

    [Fact]
    public void Events_results_and_catch_ups_cross_the_codec_with_every_node_field_including_implicit_directories()
    {
        var store = new KeyStore();
        var set = store.Set("/a/b/c", "v", flags: 7);
        var named = store.Update("/a/b", "");
        var listing = store.Get("/", recursive: true, includeHidden: true);

        var batch = RoundTrip(new KeyEventBatch([set, named]));
        Assert.Equal([set.Index, named.Index], batch.Events.Select(e => e.Index));
        Assert.Equal(7ul, batch.Events[0].Node.Flags);
        Assert.False(batch.Events[1].Node.Implicit);

        var result = RoundTrip(new KeyResult { Event = listing, Term = 3 });
        var a = result.Event!.Node.Nodes!.Single();
        Assert.True(a.Dir && a.Implicit);
        var b = a.Nodes!.Single();
        Assert.True(b.Dir && !b.Implicit);
        Assert.Equal("v", b.Nodes!.Single().Value);

        var catchUp = RoundTrip(new KeyspaceCatchUp(named.Index, [set], cleared: false, term: 3));
        Assert.Equal(named.Index, catchUp.DurableIndex);
        Assert.Equal("/a/b/c", catchUp.Events.Single().Node.Key);
    }
}
