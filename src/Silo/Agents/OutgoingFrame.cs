namespace Platform.Silo.Agents;

/// <summary>
/// One WebSocket message queued for an agent: its bytes, or a head, a body shared by many messages and a tail sent as
/// fragments of one message. A welcome is sent this way, so the member list (1.5 MB at 10,000 members) is never copied
/// per agent.
/// </summary>
internal readonly record struct OutgoingFrame(byte[] Head, byte[]? Shared = null, byte[]? Tail = null)
{
    public static implicit operator OutgoingFrame(byte[] frame) => new(frame);

    /// <summary>The whole message as one array (tests and logs; the send loop sends the parts).</summary>
    public byte[] ToArray() => Shared is null && Tail is null ? Head : [.. Head, .. Shared ?? [], .. Tail ?? []];
}
