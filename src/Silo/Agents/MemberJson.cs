using System.Buffers;
using System.Text.Json;
using Platform.Grains.Nodes;
using Platform.Protocol;

namespace Platform.Silo.Agents;

/// <summary>
/// Each member's JSON, encoded once per change of the member and reused by every frame that carries it: member batches
/// and welcomes are assembled from these bytes instead of serializing the same members again for every agent.
/// </summary>
internal sealed class MemberJson
{
    /// <summary>The member list of a welcome to an agent that takes no member events: <c>[]</c>.</summary>
    public static readonly byte[] EmptyList = "[]"u8.ToArray();

    private readonly Lock _lock = new();
    private readonly Dictionary<string, (NodeMember Member, byte[] Json)> _byName = new(StringComparer.Ordinal);

    /// <summary>The member's JSON (<see cref="MemberInfo"/>'s shape), encoded now only if it changed since the last call.</summary>
    public byte[] Get(NodeMember member)
    {
        lock (_lock)
        {
            if (_byName.TryGetValue(member.Name, out var known) && (ReferenceEquals(known.Member, member) || Same(known.Member, member)))
                return known.Json;
        }
        var json = AgentProtocol.EncodeMember(AgentFrameMapping.ToInfo(member));
        lock (_lock) _byName[member.Name] = (member, json);
        return json;
    }

    /// <summary>A reaped member's bytes are not kept.</summary>
    public void Forget(string name)
    {
        lock (_lock) _byName.Remove(name);
    }

    /// <summary>A <c>member</c> frame for one event, a <c>members</c> frame for several, from the members' cached JSON.</summary>
    public byte[] EncodeEvents(List<FleetEvent> events)
    {
        var buffer = new ArrayBufferWriter<byte>(256 + (events.Count * 160));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (events.Count == 1)
            {
                writer.WriteString("type", "member");
                WriteEventBody(writer, events[0]);
            }
            else
            {
                writer.WriteString("type", "members");
                writer.WriteStartArray("events");
                foreach (var e in events)
                {
                    writer.WriteStartObject();
                    WriteEventBody(writer, e);
                    writer.WriteEndObject();
                }
                writer.WriteEndArray();
            }
            writer.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>The JSON array of <paramref name="members"/> (a welcome's member list), from their cached JSON.</summary>
    public byte[] EncodeList(List<MemberEntry> members)
    {
        var buffer = new ArrayBufferWriter<byte>(16 + (members.Count * 128));
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var entry in members) writer.WriteRawValue(Get(entry.Member), skipInputValidation: true);
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>
    /// A welcome frame around an already encoded member list: its own head and tail (a few hundred bytes) and the list
    /// itself, shared, not copied, by every welcome that carries it.
    /// </summary>
    public OutgoingFrame EncodeWelcome(NodeMember self, byte[] memberList, int heartbeatIntervalMs, int heartbeatTimeoutMs, int pongAfterMs, string silo)
    {
        var head = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(head))
        {
            writer.WriteStartObject();
            writer.WriteString("type", "welcome");
            writer.WritePropertyName("self");
            writer.WriteRawValue(Get(self), skipInputValidation: true);
            writer.WritePropertyName("members");
            // Flushed here: what follows is the shared list, then the tail.
        }
        var tail = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(tail))
        {
            writer.WriteStartObject();
            writer.WriteNumber("heartbeat_interval_ms", heartbeatIntervalMs);
            writer.WriteNumber("heartbeat_timeout_ms", heartbeatTimeoutMs);
            writer.WriteString("silo", silo);
            writer.WriteNumber("pong_after_ms", pongAfterMs);
            writer.WriteEndObject();
        }
        var tailBytes = tail.WrittenSpan.ToArray();
        tailBytes[0] = (byte)','; // the tail object's '{' becomes the comma after the member list
        return new OutgoingFrame(head.WrittenSpan.ToArray(), memberList, tailBytes);
    }

    private void WriteEventBody(Utf8JsonWriter writer, FleetEvent e)
    {
        writer.WriteString("event", e.MemberEvent);
        writer.WritePropertyName("member");
        writer.WriteRawValue(Get(e.Member!), skipInputValidation: true);
    }

    private static bool Same(NodeMember a, NodeMember b)
    {
        if (a.Incarnation != b.Incarnation || a.Port != b.Port || a.Protocol != b.Protocol || a.Status != b.Status || a.Addr != b.Addr) return false;
        if (a.Tags.Count != b.Tags.Count) return false;
        foreach (var (key, value) in a.Tags)
            if (!b.Tags.TryGetValue(key, out var other) || other != value) return false;
        return true;
    }
}
