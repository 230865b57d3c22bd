using System.Text.Json;

namespace Platform.Protocol;

/// <summary>Constants and the JSON codec of the agent protocol (docs/nodes.md).</summary>
public static class AgentProtocol
{
    /// <summary>Where agents connect (WebSocket upgrade).</summary>
    public const string ConnectPath = "/v1/agent/connect";

    /// <summary>The WebSocket subprotocol; a later incompatible protocol gets a new one.</summary>
    public const string SubProtocol = "platform-agent.v1";

    /// <summary>Serf's protocol version numbers, reported as a member's protocol.</summary>
    public const int Version = 5;

    /// <summary>WebSocket close status (application range) for a refused hello: the agent must not retry blindly.</summary>
    public const int RefusedCloseStatus = 4001;

    /// <summary>WebSocket close status the silo uses when it stops: reconnect elsewhere at once, the node stays alive.</summary>
    public const int SiloStoppingCloseStatus = 4002;

    /// <summary>
    /// WebSocket close status an agent sends as it drops a silo that stopped answering its pings, before it reconnects: a
    /// silo that was only slow (a stalled process, a busy machine) then allows the node its heartbeat timeout to come
    /// back instead of failing it at once, as it does a connection that ends without a word (a killed agent).
    /// </summary>
    public const int SiloSilentCloseStatus = 4003;

    /// <summary>Default heartbeat interval; the silo says the one in force in its welcome.</summary>
    public static readonly TimeSpan DefaultHeartbeatInterval = TimeSpan.FromMilliseconds(400);

    /// <summary>Default time without a heartbeat after which the silo declares the node failed (three intervals: one late ping is not a failure).</summary>
    public static readonly TimeSpan DefaultHeartbeatTimeout = TimeSpan.FromMilliseconds(1200);

    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.General);

    /// <summary>A frame as the UTF-8 JSON text of one WebSocket message (encode once, send to many).</summary>
    public static byte[] Encode(AgentFrame frame) => JsonSerializer.SerializeToUtf8Bytes(frame, s_json);

    /// <summary>A member's JSON as it appears inside frames, for senders that assemble frames from pre-encoded members.</summary>
    public static byte[] EncodeMember(MemberInfo member) => JsonSerializer.SerializeToUtf8Bytes(member, s_json);

    /// <summary>Reads one message; throws <see cref="JsonException"/> naming what is wrong when it is not a frame.</summary>
    public static AgentFrame Decode(ReadOnlySpan<byte> utf8)
        => JsonSerializer.Deserialize<AgentFrame>(utf8, s_json) ?? throw new JsonException("an agent frame was the JSON null");
}
