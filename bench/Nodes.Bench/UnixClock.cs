namespace Platform.Nodes.Bench;

/// <summary>The wall clock in nanoseconds since the epoch, the clock a handler's <c>date +%s%N</c> reads.</summary>
public static class UnixClock
{
    public static long NowNanos() => (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;

    public static double MillisBetween(long fromNanos, long toNanos) => (toNanos - fromNanos) / 1e6;
}
