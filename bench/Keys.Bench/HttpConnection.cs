using System.Buffers.Text;
using System.Net;
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Text;

namespace Platform.Keys.Bench;

/// <summary>What the driver needs from a response's status line and headers.</summary>
public readonly record struct ResponseHead(int Status, long ContentLength, bool Chunked, bool Close, long EtcdIndex)
{
    public bool IsSuccess => Status is >= 200 and < 300;
}

/// <summary>
/// One keep-alive HTTP/1.1 connection over a raw socket: writes prebuilt requests and reads responses (Content-Length
/// or chunked bodies). Far cheaper per connection than HttpClient, which matters with 10,000 watchers on 2 cores.
/// Not thread-safe: one request at a time. The async methods a response suspends in pool their state machines, so
/// a request allocates nothing in steady state.
/// </summary>
public sealed class HttpConnection : IDisposable
{
    private static ReadOnlySpan<byte> HeaderEnd => "\r\n\r\n"u8;
    private static ReadOnlySpan<byte> Crlf => "\r\n"u8;

    private readonly Socket _socket;
    private byte[] _buffer;
    private int _start, _end; // received, not yet parsed: _buffer[_start.._end]
    private byte[] _body;
    private int _bodyLength;

    private HttpConnection(Socket socket, int bufferSize)
    {
        _socket = socket;
        _buffer = new byte[bufferSize];
        _body = new byte[bufferSize];
    }

    public static async Task<HttpConnection> OpenAsync(IPEndPoint server, int bufferSize, CancellationToken ct)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(server, ct);
            return new HttpConnection(socket, bufferSize);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends a complete request (headers and body).</summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> request)
    {
        while (!request.IsEmpty)
        {
            var sent = await _socket.SendAsync(request, SocketFlags.None);
            request = request[sent..];
        }
    }

    /// <summary>Reads the status line and headers; the body follows with <see cref="ReadBodyAsync"/>.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ResponseHead> ReadHeadAsync()
    {
        while (true)
        {
            var end = _buffer.AsSpan(_start, _end - _start).IndexOf(HeaderEnd);
            if (end >= 0)
            {
                var head = ParseHead(_buffer.AsSpan(_start, end + 2));
                _start += end + HeaderEnd.Length;
                return head;
            }
            await FillAsync();
        }
    }

    /// <summary>Reads the body of the response whose head was just read; the memory is valid until the next read.</summary>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public async ValueTask<ReadOnlyMemory<byte>> ReadBodyAsync(ResponseHead head)
    {
        _bodyLength = 0;
        if (head.Chunked) await ReadChunkedAsync();
        else if (head.ContentLength > 0) await CopyBodyAsync(checked((int)head.ContentLength));
        else if (head.ContentLength < 0 && head.Close) await ReadToEndAsync();
        return _body.AsMemory(0, _bodyLength);
    }

    /// <summary>Reads a whole response and returns its head and body.</summary>
    public async ValueTask<(ResponseHead Head, ReadOnlyMemory<byte> Body)> ReadResponseAsync()
    {
        var head = await ReadHeadAsync();
        var body = await ReadBodyAsync(head);
        return (head, body);
    }

    private async ValueTask ReadChunkedAsync()
    {
        while (true)
        {
            var size = await ReadChunkSizeAsync();
            if (size == 0)
            {
                // Trailer lines, if any, up to the empty line that ends the message.
                while (true)
                {
                    int line;
                    while ((line = _buffer.AsSpan(_start, _end - _start).IndexOf(Crlf)) < 0) await FillAsync();
                    _start += line + 2;
                    if (line == 0) return;
                }
            }
            await CopyBodyAsync(size);
            while (_end - _start < 2) await FillAsync();
            if (!_buffer.AsSpan(_start, 2).SequenceEqual(Crlf)) throw new InvalidDataException("chunked body: chunk data not followed by CRLF");
            _start += 2;
        }
    }

    private async ValueTask<int> ReadChunkSizeAsync()
    {
        int line;
        while ((line = _buffer.AsSpan(_start, _end - _start).IndexOf(Crlf)) < 0) await FillAsync();
        var text = _buffer.AsSpan(_start, line);
        var ext = text.IndexOf((byte)';');
        if (ext >= 0) text = text[..ext];
        if (!Utf8Parser.TryParse(text.Trim((byte)' '), out int size, out var used, 'x') || used != text.Trim((byte)' ').Length || size < 0)
            throw new InvalidDataException($"chunked body: bad chunk size line '{Encoding.ASCII.GetString(_buffer, _start, line)}'");
        _start += line + 2;
        return size;
    }

    private async ValueTask CopyBodyAsync(int count)
    {
        EnsureBody(_bodyLength + count);
        while (count > 0)
        {
            if (_start == _end) await FillAsync();
            var n = Math.Min(count, _end - _start);
            _buffer.AsSpan(_start, n).CopyTo(_body.AsSpan(_bodyLength));
            _start += n;
            _bodyLength += n;
            count -= n;
        }
    }

    private async ValueTask ReadToEndAsync()
    {
        while (true)
        {
            var n = _end - _start;
            EnsureBody(_bodyLength + n);
            _buffer.AsSpan(_start, n).CopyTo(_body.AsSpan(_bodyLength));
            _bodyLength += n;
            _start = _end = 0;
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(), SocketFlags.None);
            if (read == 0) return;
            _end = read;
        }
    }

    private void EnsureBody(int size)
    {
        if (size > _body.Length) Array.Resize(ref _body, Math.Max(size, _body.Length * 2));
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder))]
    private async ValueTask FillAsync()
    {
        if (_start == _end) _start = _end = 0;
        else if (_end == _buffer.Length)
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            else Array.Resize(ref _buffer, _buffer.Length * 2);
        }
        var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None);
        if (read == 0) throw new IOException("the server closed the connection in the middle of a response");
        _end += read;
    }

    private static ResponseHead ParseHead(ReadOnlySpan<byte> head)
    {
        // "HTTP/1.1 200 OK\r\n" then "Name: value\r\n" lines (the final CRLF is included in head).
        var lineEnd = head.IndexOf(Crlf);
        var statusLine = head[..lineEnd];
        if (statusLine.Length < 12 || !statusLine.StartsWith("HTTP/1."u8) || !Utf8Parser.TryParse(statusLine.Slice(9, 3), out int status, out _))
            throw new InvalidDataException($"not an HTTP/1.x status line: '{Encoding.ASCII.GetString(statusLine)}'");
        var close = statusLine.StartsWith("HTTP/1.0"u8);
        long contentLength = -1, etcdIndex = -1;
        var chunked = false;
        var rest = head[(lineEnd + 2)..];
        while (!rest.IsEmpty)
        {
            var end = rest.IndexOf(Crlf);
            var line = rest[..end];
            rest = rest[(end + 2)..];
            var colon = line.IndexOf((byte)':');
            if (colon <= 0) continue;
            var name = line[..colon];
            var value = line[(colon + 1)..].Trim((byte)' ');
            if (Ascii.EqualsIgnoreCase(name, "Content-Length"u8)) Utf8Parser.TryParse(value, out contentLength, out _);
            else if (Ascii.EqualsIgnoreCase(name, "Transfer-Encoding"u8)) chunked = Ascii.EqualsIgnoreCase(value, "chunked"u8);
            else if (Ascii.EqualsIgnoreCase(name, "Connection"u8)) close = Ascii.EqualsIgnoreCase(value, "close"u8);
            else if (Ascii.EqualsIgnoreCase(name, "X-Etcd-Index"u8)) Utf8Parser.TryParse(value, out etcdIndex, out _);
        }
        if (status is 204 or 304 || status < 200) contentLength = 0;
        return new ResponseHead(status, contentLength, chunked, close, etcdIndex);
    }

    public void Dispose() => _socket.Dispose();
}
