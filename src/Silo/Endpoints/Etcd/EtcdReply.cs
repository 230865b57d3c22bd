using System.Buffers;
using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>
/// The answer to a <c>/v2/keys</c> request, as both front ends render it: the fast path as bytes on the socket,
/// <see cref="EtcdEndpoints"/> through Kestrel's response. Either a whole reply (status, etcd's index headers and a
/// JSON body) or a watch that waits, whose head goes out now and whose event follows.
/// </summary>
internal readonly record struct EtcdReply
{
    /// <summary>The HTTP status.</summary>
    public int Status { get; init; }

    /// <summary><c>X-Etcd-Index</c>.</summary>
    public ulong Index { get; init; }

    /// <summary><c>X-Raft-Term</c> (with <c>X-Raft-Index</c> equal to <see cref="Index"/>); null for errors, which carry neither.</summary>
    public long? Term { get; init; }

    /// <summary>The JSON body, newline included; empty for a watch that waits.</summary>
    public ReadOnlyMemory<byte> Body { get; init; }

    /// <summary>A registered watch whose event has not happened yet: the reply is a chunked 200 ended by its event.</summary>
    public KeyWatch? Watch { get; init; }

    /// <summary>The watch is a stream (<c>stream=true</c>): every event until the client goes away, not only the first.</summary>
    public bool Stream { get; init; }

    /// <summary>etcd's error reply for <paramref name="code"/>: the status from the error table, no raft headers.</summary>
    public static EtcdReply Error(KeyErrorCode code, string? cause, ulong index)
    {
        var body = new ArrayBufferWriter<byte>(128);
        EtcdJson.WriteError(body, code, cause, index);
        return new EtcdReply { Status = KeyErrors.HttpStatus(code), Index = index, Body = body.WrittenMemory };
    }

    /// <summary>etcd's error reply for a failed request.</summary>
    public static EtcdReply Error(KeyException e) => Error(e.Code, e.Cause, e.Index);

    /// <summary>A store operation's event: 201 for a created key, else 200.</summary>
    public static EtcdReply Event(KeyEvent e, long term, bool noValueOnSuccess)
    {
        var body = new ArrayBufferWriter<byte>(256);
        EtcdJson.WriteEvent(body, e, noValueOnSuccess);
        return new EtcdReply { Status = e.IsCreated ? 201 : 200, Index = e.EtcdIndex, Term = term, Body = body.WrittenMemory };
    }

    /// <summary>A watch answered at once with an event from the history (its shared bytes).</summary>
    public static EtcdReply Watched(ulong startIndex, long term, ReadOnlyMemory<byte> body) =>
        new() { Status = 200, Index = startIndex, Term = term, Body = body };

    /// <summary>A watch that waits for its event.</summary>
    public static EtcdReply Waiting(KeyWatch watch, long term, bool stream) =>
        new() { Status = 200, Index = watch.StartIndex, Term = term, Watch = watch, Stream = stream };
}
