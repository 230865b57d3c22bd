using System.Globalization;
using Platform.Client;

namespace Platform.Cli.Output;

/// <summary>
/// <c>platform monitor</c>'s text: one line per event in the Serf agent's log format
/// (<c>2006/01/02 15:04:05 [INFO] serf: EventMemberJoin: name addr</c>), so log scrapers written for Serf keep working.
/// </summary>
public static class MonitorOutput
{
    /// <summary>Serf's log levels, most verbose first.</summary>
    public static readonly string[] Levels = ["TRACE", "DEBUG", "INFO", "WARN", "ERR"];

    /// <summary>The line for <paramref name="e"/>, or null when the level filters it out. <paramref name="now"/> stands in for a missing time.</summary>
    public static string? Line(MonitorEvent e, string minLevel, DateTimeOffset now)
    {
        // Events are logged at INFO, as the Serf agent logs member events and received user events and queries;
        // lines lost because this reader fell behind at WARN.
        // Check changes at DEBUG, as Consul's agent logs them, and a node starting to leave, as Serf logs a leave intent:
        // the default output stays the Serf agent's.
        var level = e.Type switch { "dropped" => "WARN", "check" or "leaving" => "DEBUG", _ => "INFO" };
        if (Array.IndexOf(Levels, minLevel) > Array.IndexOf(Levels, level)) return null;
        var time = (e.Time ?? now).ToLocalTime().ToString("yyyy/MM/dd HH:mm:ss", CultureInfo.InvariantCulture);
        var text = e.Type switch
        {
            "member" => $"serf: {MemberEventName(e.Event)}: {e.Member?.Name} {e.Member?.Addr}",
            "user" => $"agent: Received event: user-event: {e.Name}",
            "query" => $"agent: Received event: query: {e.Name}",
            "leaving" => $"serf: messageLeaveType: {e.Node}",
            "check" => $"agent: Check status updated: node={e.Node} check={e.Check?.Id} status={e.Check?.Status}",
            "dropped" => $"monitor: {e.Count} events dropped: this monitor fell behind",
            _ => $"monitor: {e.Json}",
        };
        return $"{time} [{level}] {text}";
    }

    /// <summary>member-join → EventMemberJoin, as Serf names its event types in its log.</summary>
    public static string MemberEventName(string? name) => name switch
    {
        "member-join" => "EventMemberJoin",
        "member-leave" => "EventMemberLeave",
        "member-failed" => "EventMemberFailed",
        "member-update" => "EventMemberUpdate",
        "member-reap" => "EventMemberReap",
        _ => name ?? "EventMember",
    };
}
