using System.Globalization;

namespace Platform.Silo.Endpoints.ConsulNodes;

/// <summary>
/// The <c>X-Consul-Index</c> of answers that have no Raft index here. Consul's own event index is a hash of the last
/// event's id; the others are a hash of the answer, so the index moves exactly when the answer does. Neither is
/// monotonic: clients compare for inequality, and reset when it goes back, as Consul tells them to.
/// </summary>
internal static class ConsulIndex
{
    /// <summary>Consul's index of an event list: the last event's UUID as a 128-bit number, its two halves XORed; 1 for no events.</summary>
    public static ulong OfEvents(string? lastEventId)
    {
        if (lastEventId is null) return 1;
        if (!Guid.TryParse(lastEventId, out var id)) return OfAnswer(System.Text.Encoding.UTF8.GetBytes(lastEventId));
        var hex = id.ToString("N");
        var low = ulong.Parse(hex.AsSpan(0, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var high = ulong.Parse(hex.AsSpan(16, 16), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture);
        var index = low ^ high;
        return index == 0 ? 1 : index;
    }

    /// <summary>An index for an answer: a 64-bit hash of its bytes, never 0 (a zero index makes clients stop watching).</summary>
    public static ulong OfAnswer(ReadOnlySpan<byte> json)
    {
        // FNV-1a: small, and good enough to tell two answers apart.
        var hash = 14695981039346656037UL;
        foreach (var b in json) hash = (hash ^ b) * 1099511628211UL;
        return hash == 0 ? 1 : hash;
    }

    /// <summary>An index from a time: Unix milliseconds, for a node's create and modify indexes.</summary>
    public static ulong OfTime(DateTimeOffset at) => (ulong)Math.Max(1, at.ToUnixTimeMilliseconds());
}
