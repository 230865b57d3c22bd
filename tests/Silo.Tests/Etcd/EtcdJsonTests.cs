using System.Buffers;
using System.Text;
using Platform.Grains.Keys;
using Platform.Grains.Tests.Keys;
using Platform.Silo.Endpoints.Etcd;

namespace Platform.Silo.Tests.Etcd;

/// <summary>etcd's JSON, byte for byte as Go's encoder writes it.</summary>
public sealed class EtcdJsonTests
{
    private readonly ManualTime _time = new(new DateTimeOffset(2026, 11, 22, 1, 2, 3, TimeSpan.Zero).AddTicks(1234500));

    private static string Text(byte[] bytes) => Encoding.UTF8.GetString(bytes);

    [Fact]
    public void A_set_over_an_old_value_has_node_and_prevNode_in_etcds_field_order()
    {
        var store = new KeyStore(KeyStore.DefaultHistoryCapacity, _time);
        store.Set("/build_notify", "old");
        var e = store.Set("/build_notify", "notify");
        Assert.Equal("{\"action\":\"set\",\"node\":{\"key\":\"/build_notify\",\"value\":\"notify\",\"modifiedIndex\":2,\"createdIndex\":2},"
            + "\"prevNode\":{\"key\":\"/build_notify\",\"value\":\"old\",\"modifiedIndex\":1,\"createdIndex\":1}}\n", Text(EtcdJson.Event(e)));
    }

    [Fact]
    public void TTLs_show_expiration_with_trimmed_nanoseconds_and_the_seconds_left()
    {
        var store = new KeyStore(KeyStore.DefaultHistoryCapacity, _time);
        var e = store.Set("/t", "", TimeSpan.FromSeconds(5));
        Assert.Equal("{\"action\":\"set\",\"node\":{\"key\":\"/t\",\"value\":\"\",\"expiration\":\"2026-11-22T01:02:08.12345Z\",\"ttl\":5,\"modifiedIndex\":1,\"createdIndex\":1}}\n",
            Text(EtcdJson.Event(e)));
    }

    [Fact]
    public void The_root_listing_has_no_key_and_an_empty_directory_has_no_nodes()
    {
        var store = new KeyStore(KeyStore.DefaultHistoryCapacity, _time);
        store.Set("/d", "", dir: true);
        Assert.Equal("{\"action\":\"get\",\"node\":{\"dir\":true,\"nodes\":[{\"key\":\"/d\",\"dir\":true,\"modifiedIndex\":1,\"createdIndex\":1}]}}\n", Text(EtcdJson.Event(store.Get("/"))));
        Assert.Equal("{\"action\":\"get\",\"node\":{\"key\":\"/d\",\"dir\":true,\"modifiedIndex\":1,\"createdIndex\":1}}\n", Text(EtcdJson.Event(store.Get("/d"))));
    }

    [Fact]
    public void Strings_are_escaped_as_Go_escapes_them()
    {
        var buffer = new ArrayBufferWriter<byte>();
        EtcdJson.WriteString(buffer, "a\"b\\c\n\r\t\u0001<>&\u2028\u2029é😀");
        Assert.Equal("\"a\\\"b\\\\c\\n\\r\\t\\u0001\\u003c\\u003e\\u0026\\u2028\\u2029é😀\"", Encoding.UTF8.GetString(buffer.WrittenSpan));
    }

    [Fact]
    public void Errors_leave_out_an_empty_cause_and_noValueOnSuccess_leaves_out_the_nodes()
    {
        var buffer = new ArrayBufferWriter<byte>();
        EtcdJson.WriteError(buffer, KeyErrorCode.KeyNotFound, "/foo", 7);
        EtcdJson.WriteError(buffer, KeyErrorCode.RaftInternal, null, 0);
        Assert.Equal("{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/foo\",\"index\":7}\n{\"errorCode\":300,\"message\":\"Raft Internal Error\",\"index\":0}\n",
            Encoding.UTF8.GetString(buffer.WrittenSpan));
        var store = new KeyStore(KeyStore.DefaultHistoryCapacity, _time);
        Assert.Equal("{\"action\":\"set\"}\n", Text(EtcdJson.Event(store.Set("/k", "v"), noValueOnSuccess: true)));
    }

    [Fact]
    public void A_watched_event_is_rendered_once_and_its_last_chunk_is_the_body_as_one_chunk_then_the_end_of_the_response()
    {
        var store = new KeyStore(KeyStore.DefaultHistoryCapacity, _time);
        var e = new KeyWatchEvent(store.Set("/chunk", "v"));
        var bytes = EtcdEventBytes.Of(e);
        var body = Encoding.ASCII.GetString(bytes.Body.Span);
        Assert.Equal(Text(EtcdJson.Event(e.Event)), body);
        Assert.Equal($"{body.Length:x}\r\n{body}\r\n0\r\n\r\n", Encoding.ASCII.GetString(bytes.LastChunk.Span));
        Assert.Same(bytes, EtcdEventBytes.Of(e));
    }
}
