using System.Text;

namespace Platform.Protocol;

/// <summary>Serf's rules for user events: a size limit on name + payload and names starting with '_' reserved.</summary>
public static class UserEvents
{
    /// <summary>Serf's default limit for the name and payload of a user event together, in bytes.</summary>
    public const int DefaultSizeLimit = 512;

    /// <summary>Null when the event may be fired, else a message naming the input and what was expected.</summary>
    public static string? Validate(string name, ReadOnlySpan<byte> payload, int sizeLimit = DefaultSizeLimit)
    {
        if (string.IsNullOrEmpty(name)) return "user event name is empty; expected a name such as 'deploy'";
        if (name[0] == '_') return $"user event name '{name}' starts with '_', which is reserved";
        var size = Encoding.UTF8.GetByteCount(name) + payload.Length;
        if (size > sizeLimit)
            return $"user event '{name}' is {size} bytes (name + payload); the limit is {sizeLimit} bytes";
        return null;
    }
}
