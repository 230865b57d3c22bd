namespace Platform.Runtime.Transport;

/// <summary>
/// Lets a connection's reading thread run a call to an idle grain itself without leaving the connection unread.
/// While it delivers the last frame it holds, and only when the connection's standby thread waits, the reader arms
/// this; an activation that has just taken a call to run on this thread hands the reading role to the standby
/// before running it. The call was routed and claimed first, so the frames after it still reach their
/// activations' queues in the order they were sent; a grain that blocks holds this thread, never the connection.
/// </summary>
internal static class ReaderHandoff
{
    [ThreadStatic] private static InboundConnection? t_armed;

    /// <summary>True on a reading thread that may run the call it is delivering.</summary>
    public static bool IsArmed => t_armed is not null;

    public static void Arm(InboundConnection connection) => t_armed = connection;

    /// <summary>Disarms; false when the role was handed over meanwhile (this thread no longer reads).</summary>
    public static bool Disarm()
    {
        var armed = t_armed is not null;
        t_armed = null;
        return armed;
    }

    /// <summary>Called right before a call runs inline on this thread: an armed reader gives the reading role away.</summary>
    public static void BeforeInline()
    {
        if (t_armed is not { } connection) return;
        t_armed = null;
        connection.HandOffReading();
    }
}
