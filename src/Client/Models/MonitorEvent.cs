using System.Text.Json;

namespace Platform.Client;

/// <summary>
/// One line of <c>GET /v1/monitor</c>: a member event (<see cref="Event"/>, <see cref="Member"/>), a user event or query
/// (<see cref="Name"/>, <see cref="Payload"/>, <see cref="LTime"/>), a check's new state (<see cref="Node"/>,
/// <see cref="Check"/>), or <c>dropped</c> (<see cref="Count"/>) when this
/// reader fell behind. <see cref="Json"/> is the line as the silo sent it.
/// </summary>
public sealed record MonitorEvent(string Type, string Json)
{
    /// <summary>member-join, member-leave, member-failed, member-update or member-reap, for a member event.</summary>
    public string? Event { get; init; }

    /// <summary>The member, for a member event.</summary>
    public Node? Member { get; init; }

    /// <summary>The user event's or query's id.</summary>
    public string? Id { get; init; }

    /// <summary>The user event's or query's name.</summary>
    public string? Name { get; init; }

    /// <summary>The user event's or query's payload.</summary>
    public byte[]? Payload { get; init; }

    /// <summary>The Lamport time of a user event or query.</summary>
    public ulong LTime { get; init; }

    /// <summary>For a <c>dropped</c> line: how many lines this reader lost because it fell behind.</summary>
    public long Count { get; init; }

    /// <summary>For a <c>check</c> line: the node whose check changed.</summary>
    public string? Node { get; init; }

    /// <summary>For a <c>check</c> line: the check's new state.</summary>
    public MonitorCheck? Check { get; init; }

    /// <summary>When the silo saw it, if it said.</summary>
    public DateTimeOffset? Time { get; init; }

    /// <summary>Reads one NDJSON line leniently: unknown fields are kept in <see cref="Json"/>, a payload may be base64 or text.</summary>
    public static MonitorEvent Parse(string line, JsonSerializerOptions json)
    {
        using var doc = JsonDocument.Parse(line);
        var root = doc.RootElement;
        if (root.ValueKind != JsonValueKind.Object) throw new JsonException($"monitor line is not a JSON object: {line}");
        var type = String(root, "type") ?? "";
        var member = root.TryGetProperty("member", out var m) && m.ValueKind == JsonValueKind.Object ? m.Deserialize<Node>(json) : null;
        byte[]? payload = null;
        if (root.TryGetProperty("payload", out var p) && p.ValueKind == JsonValueKind.String)
            payload = p.TryGetBytesFromBase64(out var bytes) ? bytes : System.Text.Encoding.UTF8.GetBytes(p.GetString()!);
        ulong ltime = 0;
        if ((root.TryGetProperty("lTime", out var lt) || root.TryGetProperty("ltime", out lt)) && lt.ValueKind == JsonValueKind.Number)
            lt.TryGetUInt64(out ltime);
        var count = root.TryGetProperty("count", out var c) && c.ValueKind == JsonValueKind.Number && c.TryGetInt64(out var n) ? n : 0;
        DateTimeOffset? time = root.TryGetProperty("time", out var t) && t.ValueKind == JsonValueKind.String && t.TryGetDateTimeOffset(out var parsed) ? parsed : null;
        return new MonitorEvent(type, line)
        {
            Event = String(root, "event"),
            Member = member,
            Id = String(root, "id"),
            Name = String(root, "name"),
            Payload = payload,
            LTime = ltime,
            Count = count,
            Node = String(root, "node"),
            Check = root.TryGetProperty("check", out var k) && k.ValueKind == JsonValueKind.Object ? k.Deserialize<MonitorCheck>(json) : null,
            Time = time,
        };
    }

    private static string? String(JsonElement e, string name)
        => e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}

/// <summary>A health check's state as a <c>check</c> monitor line carries it.</summary>
public sealed record MonitorCheck(string Id, string Name, string Status, string Output);
