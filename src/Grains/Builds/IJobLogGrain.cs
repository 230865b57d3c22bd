using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>The log of one attempt of a job (<c>joblog/{build}/{job}/{attempt}</c>): chunks appended durably, in order, each once.</summary>
public interface IJobLogGrain : IGrainWithStringKey
{
    /// <summary>Stores chunk <paramref name="seq"/> at byte <paramref name="offset"/> (what is stored already is skipped); answers the chunk sequence number acknowledged.</summary>
    Task<long> Append(long seq, long offset, byte[] data);

    /// <summary>The attempt ended: followers stop at the end of what is stored.</summary>
    Task End();

    /// <summary>
    /// Up to <paramref name="max"/> bytes from <paramref name="offset"/>; when there are none yet and the log has not
    /// ended, waits up to <paramref name="waitMs"/> for more.
    /// </summary>
    Task<LogSlice> Read(long offset, int max, int waitMs);
}

/// <summary>Bytes of a log from <see cref="Offset"/>, the log's stored length, and whether it has ended.</summary>
public sealed record LogSlice(byte[] Data, long Offset, long Length, bool Ended);
