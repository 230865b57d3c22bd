namespace Platform.Silo.Endpoints.Nodes;

/// <summary>Reads a request body as bytes, at most a given length (the rest is left unread: the caller's size check names the limit).</summary>
internal static class NodesBody
{
    public static async Task<byte[]> ReadAsync(HttpRequest request, int max)
    {
        var buffer = new byte[Math.Min(max, 64 * 1024)];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted);
            if (read == 0) break;
            length += read;
        }
        return buffer.AsSpan(0, length).ToArray();
    }
}
