using System.Buffers;
using System.Buffers.Text;
using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;

namespace Platform.Silo.Endpoints.Etcd;

/// <summary>An <see cref="EtcdReply"/> as HTTP/1.1 bytes, headers in the order Kestrel writes them (the fast path's answers).</summary>
internal static class EtcdResponseBytes
{
    /// <summary>A complete response as the keys endpoint writes it.</summary>
    public static ReadOnlyMemory<byte> Response(EtcdReply reply, bool close)
    {
        var response = Head(reply, reply.Body.Length, close);
        response.Write(reply.Body.Span);
        return response.WrittenMemory;
    }

    /// <summary>Status line and headers, in the order Kestrel writes them; <paramref name="contentLength"/> -1 is chunked.</summary>
    public static ArrayBufferWriter<byte> Head(EtcdReply reply, int contentLength, bool close)
    {
        var w = new ArrayBufferWriter<byte>(320 + Math.Max(contentLength, 0));
        Text(w, "HTTP/1.1 ");
        Number(w, (ulong)reply.Status);
        Text(w, " ");
        Text(w, ReasonPhrases.GetReasonPhrase(reply.Status));
        if (contentLength >= 0)
        {
            Text(w, "\r\nContent-Length: ");
            Number(w, (ulong)contentLength);
        }
        if (close) Text(w, "\r\nConnection: close");
        Text(w, "\r\nContent-Type: application/json\r\nDate: ");
        w.Write(HttpDate.Now);
        if (contentLength < 0) Text(w, "\r\nTransfer-Encoding: chunked");
        Text(w, "\r\nX-Etcd-Cluster-Id: ");
        Text(w, EtcdEndpoints.ClusterId);
        Text(w, "\r\nX-Etcd-Index: ");
        Number(w, reply.Index);
        if (reply.Term is { } t)
        {
            Text(w, "\r\nX-Raft-Index: ");
            Number(w, reply.Index);
            Text(w, "\r\nX-Raft-Term: ");
            Number(w, (ulong)t);
        }
        Text(w, "\r\n\r\n");
        return w;
    }

    private static void Text(ArrayBufferWriter<byte> w, string text)
    {
        var span = w.GetSpan(text.Length);
        var n = Encoding.ASCII.GetBytes(text, span);
        w.Advance(n);
    }

    private static void Number(ArrayBufferWriter<byte> w, ulong value)
    {
        var span = w.GetSpan(20);
        Utf8Formatter.TryFormat(value, span, out var n);
        w.Advance(n);
    }

    /// <summary>The <c>Date</c> header's value, formatted once a second.</summary>
    private static class HttpDate
    {
        private sealed record Stamp(long Second, byte[] Value);

        private static volatile Stamp s_current = new(-1, []);

        public static byte[] Now
        {
            get
            {
                var now = DateTimeOffset.UtcNow;
                var second = now.ToUnixTimeSeconds();
                var current = s_current;
                if (current.Second == second) return current.Value;
                var value = Encoding.ASCII.GetBytes(now.ToString("r", CultureInfo.InvariantCulture));
                s_current = new Stamp(second, value);
                return value;
            }
        }
    }
}
