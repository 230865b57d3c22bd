namespace Platform.Silo.Tls;

/// <summary>Last write time and length of a set of files: a different stamp means a file changed (or appeared, or went).</summary>
internal readonly record struct TlsFileStamp(long Hash)
{
    public static TlsFileStamp Of(string? first, string? second = null)
    {
        var hash = new HashCode();
        Add(ref hash, first);
        Add(ref hash, second);
        return new TlsFileStamp(hash.ToHashCode());
    }

    private static void Add(ref HashCode hash, string? path)
    {
        if (path is null) return;
        // FileInfo follows symbolic links, so a Kubernetes secret's swapped ..data link counts as a change.
        var info = new FileInfo(path);
        hash.Add(info.Exists ? info.LastWriteTimeUtc.Ticks : -1);
        hash.Add(info.Exists ? info.Length : -1);
    }
}
