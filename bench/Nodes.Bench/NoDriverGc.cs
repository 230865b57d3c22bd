using System.Runtime;

namespace Platform.Nodes.Bench;

/// <summary>
/// Keeps the driver's own collections out of a timed round. One process holding every simulated agent's socket has a
/// heap no real agent has, and its pauses (40–47 ms at 1,000 agents) were counted as the silo's latency; the
/// collection that makes room for the round runs before the round starts instead. A round that allocates more than
/// the room collects anyway, and the pause shows in the round's driver GC figure.
/// </summary>
internal readonly struct NoDriverGc : IDisposable
{
    private readonly bool _started;

    private NoDriverGc(bool started) => _started = started;

    public static NoDriverGc Start()
    {
        foreach (var room in (long[])[256L << 20, 64L << 20])
        {
            try
            {
                return new NoDriverGc(GC.TryStartNoGCRegion(room));
            }
            catch (ArgumentOutOfRangeException)
            {
                // More than this collector allows at once: ask for less.
            }
            catch (InvalidOperationException)
            {
                return new NoDriverGc(false);
            }
        }
        return new NoDriverGc(false);
    }

    public void Dispose()
    {
        if (!_started || GCSettings.LatencyMode != GCLatencyMode.NoGCRegion) return;
        try
        {
            GC.EndNoGCRegion();
        }
        catch (InvalidOperationException)
        {
            // The round outgrew the room and the runtime collected: the region had already ended.
        }
    }
}
