namespace Platform.Grains.Nodes;

/// <summary>A node's membership status, as Serf names them.</summary>
public static class NodeStatus
{
    public const string Alive = "alive";
    public const string Leaving = "leaving";
    public const string Left = "left";
    public const string Failed = "failed";

    /// <summary>Whether <paramref name="status"/> is one of the four statuses.</summary>
    public static bool IsKnown(string status) => status is Alive or Leaving or Left or Failed;
}

/// <summary>The member events, as Serf names them.</summary>
public static class MemberEvents
{
    public const string Join = "member-join";
    public const string Leave = "member-leave";
    public const string Failed = "member-failed";
    public const string Update = "member-update";
    public const string Reap = "member-reap";
}
