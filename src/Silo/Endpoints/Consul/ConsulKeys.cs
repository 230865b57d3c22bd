using Platform.Grains.Keys;

namespace Platform.Silo.Endpoints.Consul;

/// <summary>
/// How Consul keys name keyspace nodes: <c>a/b</c> is the key <c>/a/b</c> and the folder <c>a/b/</c> is the
/// directory <c>/a/b</c>. Consul's prefixes are plain string prefixes of these names.
/// </summary>
internal static class ConsulKeys
{
    /// <summary>The Consul name of a node: its key without the leading slash, plus a slash for a directory ("" for the root).</summary>
    public static string Name(KeyNodeSnapshot node)
    {
        var key = node.Key;
        if (key.Length == 1) return "";
        return node.Dir ? string.Concat(key.AsSpan(1), "/") : key[1..];
    }

    /// <summary>True when the node's Consul name starts with <paramref name="prefix"/> (without building the name).</summary>
    public static bool NameStartsWith(KeyNodeSnapshot node, string prefix)
    {
        var key = node.Key;
        if (prefix.Length == 0) return true;
        if (key.Length == 1) return false;
        var path = key.AsSpan(1);
        if (prefix.Length <= path.Length) return path.StartsWith(prefix, StringComparison.Ordinal);
        // Only a directory's trailing slash can make its name as long as the prefix.
        return node.Dir && prefix.Length == path.Length + 1 && prefix[^1] == '/' && prefix.AsSpan(0, path.Length).SequenceEqual(path);
    }

    /// <summary>True when the node is a directory whose folder name starts <paramref name="prefix"/>: keys with the prefix may lie below it.</summary>
    public static bool MayHoldPrefix(KeyNodeSnapshot node, string prefix)
    {
        if (!node.Dir) return false;
        var key = node.Key;
        if (key.Length == 1) return true;
        var path = key.AsSpan(1);
        return prefix.Length > path.Length && prefix[path.Length] == '/' && prefix.AsSpan(0, path.Length).SequenceEqual(path);
    }

    /// <summary>
    /// True when <paramref name="e"/> can change what a query for <paramref name="prefix"/> sees: its node's name has
    /// the prefix, or it removed a directory that held keys with the prefix.
    /// </summary>
    public static bool Touches(KeyEvent e, string prefix) =>
        NameStartsWith(e.Node, prefix) || (e.Action is KeyAction.Delete or KeyAction.Expire && MayHoldPrefix(e.Node, prefix));

    /// <summary>The directory that holds every key with the Consul prefix: the prefix up to its last slash (<c>a/b</c> → <c>/a</c>).</summary>
    public static string DirectoryOf(string prefix)
    {
        var slash = prefix.LastIndexOf('/');
        return slash <= 0 ? KeyPath.Root : string.Concat(KeyPath.Root, prefix.AsSpan(0, slash));
    }

    /// <summary>The Consul name of a keyspace key given as an error's cause (<c>/a</c> → <c>a</c>).</summary>
    public static string FromKeyspace(string? key) => key is { Length: > 1 } && key[0] == '/' ? key[1..] : key ?? "";
}
