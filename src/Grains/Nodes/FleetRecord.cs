using System.Text.Json;

namespace Platform.Grains.Nodes;

/// <summary>One record of the fleet journal: a member change or a user event, as JSON (records are small and rare next to heartbeats).</summary>
public sealed record FleetRecord(MemberChange? Change, UserEvent? User)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.General);

    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);

    /// <summary>Decodes a record; throws <see cref="InvalidDataException"/> naming what is wrong.</summary>
    public static FleetRecord Decode(ReadOnlySpan<byte> data)
    {
        FleetRecord? record;
        try
        {
            record = JsonSerializer.Deserialize<FleetRecord>(data, s_json);
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"fleet record is not valid JSON: {e.Message}", e);
        }
        if (record is null || (record.Change is null) == (record.User is null))
            throw new InvalidDataException("fleet record holds neither a member change nor a user event (or both)");
        return record;
    }
}

/// <summary>The fleet's state as a snapshot: clocks, members and the user events kept.</summary>
public sealed record FleetSnapshot(ulong LastSeq, ulong UserLTime, ulong QueryLTime, List<MemberEntry> Members, List<UserEvent> UserEvents)
{
    private static readonly JsonSerializerOptions s_json = new(JsonSerializerDefaults.General);

    public byte[] Encode() => JsonSerializer.SerializeToUtf8Bytes(this, s_json);

    public static FleetSnapshot Decode(ReadOnlySpan<byte> data)
    {
        try
        {
            return JsonSerializer.Deserialize<FleetSnapshot>(data, s_json) ?? throw new InvalidDataException("fleet snapshot is the JSON null");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"fleet snapshot is not valid JSON: {e.Message}", e);
        }
    }
}
