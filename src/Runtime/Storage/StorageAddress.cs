using System.Globalization;

namespace Platform.Runtime.Storage;

/// <summary>Checks shared by every storage provider and reminder table.</summary>
public static class StorageAddress
{
    /// <summary>A stored item is addressed by grain type (non-empty), grain key (may be empty) and a name (non-empty).</summary>
    public static void Validate(string grainType, string grainKey, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(grainType);
        ArgumentNullException.ThrowIfNull(grainKey);
        ArgumentException.ThrowIfNullOrEmpty(name);
    }

    /// <summary>The durable providers' ETags are integers; anything else cannot match a stored row.</summary>
    public static bool TryParseVersion(string? eTag, out long version) =>
        long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out version);
}
