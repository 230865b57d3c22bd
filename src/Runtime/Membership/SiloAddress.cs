using System.Globalization;
using System.Net;

namespace Platform.Runtime.Membership;

/// <summary>
/// A silo incarnation: the endpoint other silos reach it on plus a generation (its start time in
/// Unix milliseconds), so a restarted silo on the same endpoint is a different member.
/// Text form: <c>host:port@generation</c>.
/// </summary>
public readonly record struct SiloAddress(string Host, int Port, long Generation) : IComparable<SiloAddress>
{
    public IPEndPoint ToEndPoint() => new(IPAddress.Parse(Host), Port);

    public string Endpoint => $"{Host}:{Port}";

    public override string ToString() => $"{Host}:{Port}@{Generation.ToString(CultureInfo.InvariantCulture)}";

    public static SiloAddress Parse(string text)
    {
        var at = text.LastIndexOf('@');
        var colon = at < 0 ? -1 : text.LastIndexOf(':', at);
        if (at < 0 || colon < 0
            || !int.TryParse(text.AsSpan(colon + 1, at - colon - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || !long.TryParse(text.AsSpan(at + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var generation))
            throw new FormatException($"'{text}' is not a silo address (expected host:port@generation).");
        return new SiloAddress(text[..colon], port, generation);
    }

    public int CompareTo(SiloAddress other)
    {
        var c = string.CompareOrdinal(Host, other.Host);
        if (c != 0) return c;
        c = Port.CompareTo(other.Port);
        return c != 0 ? c : Generation.CompareTo(other.Generation);
    }
}
