using System.Text;

namespace Platform.Keys.Bench;

/// <summary>Prebuilt HTTP/1.1 requests of the etcd v2 keys API, so that the load loops only copy bytes to a socket.</summary>
public static class Requests
{
    public static byte[] Get(byte[] host, string pathAndQuery) =>
        Build($"GET {pathAndQuery} HTTP/1.1\r\nHost: ", host, "\r\n\r\n");

    /// <summary>PUT with a form body <c>value=...</c>: the etcd "set" of a key.</summary>
    public static byte[] Put(byte[] host, string path, string value)
    {
        var body = "value=" + Uri.EscapeDataString(value);
        return Build($"PUT {path} HTTP/1.1\r\nHost: ", host,
            $"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {Encoding.ASCII.GetByteCount(body)}\r\n\r\n{body}");
    }

    private static byte[] Build(string before, byte[] host, string after)
    {
        var bytes = new byte[Encoding.ASCII.GetByteCount(before) + host.Length + Encoding.ASCII.GetByteCount(after)];
        var n = Encoding.ASCII.GetBytes(before, bytes);
        host.CopyTo(bytes, n);
        Encoding.ASCII.GetBytes(after, bytes.AsSpan(n + host.Length));
        return bytes;
    }
}
