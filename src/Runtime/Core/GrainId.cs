namespace Platform.Runtime;

/// <summary>The identity of a grain: its type name and its string key ("type/key").</summary>
public readonly struct GrainId : IEquatable<GrainId>
{
    private readonly int _hash;

    public GrainId(string type, string key)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        ArgumentNullException.ThrowIfNull(key);
        Type = type;
        Key = key;
        _hash = HashCode.Combine(StringComparer.Ordinal.GetHashCode(type), StringComparer.Ordinal.GetHashCode(key));
    }

    public string Type { get; }
    public string Key { get; }
    public bool IsDefault => Type is null;

    public bool Equals(GrainId other) => _hash == other._hash && string.Equals(Type, other.Type, StringComparison.Ordinal) && string.Equals(Key, other.Key, StringComparison.Ordinal);
    public override bool Equals(object? obj) => obj is GrainId g && Equals(g);
    public override int GetHashCode() => _hash;
    public override string ToString() => $"{Type}/{Key}";
    public static bool operator ==(GrainId a, GrainId b) => a.Equals(b);
    public static bool operator !=(GrainId a, GrainId b) => !a.Equals(b);
}
