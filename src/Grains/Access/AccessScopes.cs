namespace Platform.Grains.Access;

/// <summary>
/// The scopes a token can hold (docs/security.md). <c>keys:read</c> and <c>keys:write</c> may be limited to a key
/// prefix (<c>keys:write:/app/</c>); <c>admin</c> holds every scope.
/// </summary>
public static class AccessScopes
{
    public const string KeysRead = "keys:read";
    public const string KeysWrite = "keys:write";
    public const string NodesRead = "nodes:read";
    public const string NodesWrite = "nodes:write";
    public const string EventsFire = "events:fire";
    public const string Query = "query";
    public const string Deploy = "deploy";
    public const string Build = "build";
    public const string Agent = "agent";
    public const string Admin = "admin";

    /// <summary>Separates scopes a route accepts any one of (<c>build|deploy</c>); never part of a scope's name.</summary>
    public const string Alternative = "|";

    /// <summary>Every scope name, in the order the docs list them.</summary>
    public static readonly IReadOnlyList<string> All = [KeysRead, KeysWrite, NodesRead, NodesWrite, EventsFire, Query, Deploy, Build, Agent, Admin];

    /// <summary>Parses <c>name</c> or <c>keys:read:/prefix</c>; throws <see cref="FormatException"/> naming the scope and what is expected.</summary>
    public static ScopeGrant Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var value = text.Trim();
        foreach (var keys in (ReadOnlySpan<string>)[KeysRead, KeysWrite])
        {
            if (value.Length > keys.Length && value.StartsWith(keys + ":", StringComparison.Ordinal))
            {
                var prefix = value[(keys.Length + 1)..];
                if (prefix.Length == 0 || prefix[0] != '/')
                    throw new FormatException($"scope '{text}': the key prefix after '{keys}:' must start with '/', as in '{keys}:/app/'");
                return new ScopeGrant(keys, prefix);
            }
        }
        foreach (var name in All)
        {
            if (value == name) return new ScopeGrant(name, null);
        }
        throw new FormatException($"scope '{text}' is not known; expected one of {string.Join(", ", All)}, or keys:read:/prefix or keys:write:/prefix");
    }
}

/// <summary>One scope a token holds; <see cref="Prefix"/> limits a keys scope to keys under it (null: every key).</summary>
public sealed record ScopeGrant(string Name, string? Prefix)
{
    /// <summary>Whether this grant allows <paramref name="scope"/> on <paramref name="key"/> (a keyspace path, or null when the scope names no key).</summary>
    public bool Allows(string scope, string? key)
    {
        if (Name == AccessScopes.Admin) return true;
        // Writing a key implies reading it, as in etcd's roles.
        var matches = Name == scope || (Name == AccessScopes.KeysWrite && scope == AccessScopes.KeysRead);
        if (!matches) return false;
        if (Prefix is null) return true;
        return key is not null && key.StartsWith(Prefix, StringComparison.Ordinal);
    }

    public override string ToString() => Prefix is null ? Name : $"{Name}:{Prefix}";
}
