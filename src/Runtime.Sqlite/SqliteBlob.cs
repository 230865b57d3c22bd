using System.Runtime.InteropServices;

namespace Platform.Runtime.Sqlite;

/// <summary>Binding caller memory as a blob parameter.</summary>
internal static class SqliteBlob
{
    /// <summary>Microsoft.Data.Sqlite binds blobs from whole arrays only; this avoids the copy when the memory already is one.</summary>
    public static byte[] AsArray(ReadOnlyMemory<byte> data) =>
        MemoryMarshal.TryGetArray(data, out var segment) && segment.Offset == 0 && segment.Count == segment.Array!.Length
            ? segment.Array
            : data.ToArray();
}
