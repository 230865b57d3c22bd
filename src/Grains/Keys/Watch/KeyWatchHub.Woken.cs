using Microsoft.Extensions.Logging;

namespace Platform.Grains.Keys;

/// <summary>A fan-out: the watches one delivery wakes, completed on the wake threads.</summary>
public sealed partial class KeyWatchHub
{
    /// <summary>Watches a wake thread completes before it takes the next part of a fan-out.</summary>
    private const int WakeChunk = 64;

    /// <summary>
    /// The watches one delivery wakes: whole lists and single watches, each with its event. They are completed off the
    /// delivering thread, on the <see cref="WakeThreads"/> (below normal priority), in chunks of <see cref="WakeChunk"/>
    /// that up to one thread per core take in turn: a large fan-out uses every core the rest of the silo leaves idle and
    /// holds up no grain turn, and the writer's reply does not wait for it. Handlers see the thread's
    /// <see cref="WakeBatch"/> during a chunk, flushed at its end.
    /// </summary>
    private sealed class Woken : IWakeWork
    {
        private readonly List<(KeyWatchList? List, KeyWatch? Watch, KeyWatchEvent Event)> _parts = [];
        private int _count;
        private int _chunks;
        private int _nextChunk;
        private KeyWatchHub? _hub;

        public void Add(KeyWatchList list, KeyWatchEvent e)
        {
            _parts.Add((list, null, e));
            _count += list.Count;
        }

        public void Add(KeyWatch watch, KeyWatchEvent e)
        {
            _parts.Add((null, watch, e));
            _count++;
        }

        public void Wake(KeyWatchHub hub)
        {
            _hub = hub;
            _chunks = (_count + WakeChunk - 1) / WakeChunk;
            WakeThreads.Post(this, _chunks);
        }

        public void Help()
        {
            for (var chunk = Interlocked.Increment(ref _nextChunk) - 1; chunk < _chunks; chunk = Interlocked.Increment(ref _nextChunk) - 1)
            {
                if (WakeBatch.Open() is { } failure) LogCompletionFailed(_hub!._logger, failure);
                try
                {
                    Run(_hub!, (long)chunk * WakeChunk, Math.Min(_count, ((long)chunk + 1) * WakeChunk));
                }
                finally
                {
                    Flush(_hub!);
                }
            }
        }

        private static void Flush(KeyWatchHub hub)
        {
            try
            {
                WakeBatch.Close();
            }
            catch (Exception failure)
            {
                LogCompletionFailed(hub._logger, failure);
            }
        }

        /// <summary>Completes the watches from position <paramref name="from"/> to <paramref name="to"/> of the parts laid end to end.</summary>
        private void Run(KeyWatchHub hub, long from, long to)
        {
            long start = 0;
            foreach (var (list, single, e) in _parts)
            {
                var size = list?.Count ?? 1;
                var first = Math.Max(from, start);
                var last = Math.Min(to, start + size);
                for (var i = first; i < last; i++) Complete(hub, list is null ? single! : list[(int)(i - start)], e);
                start += size;
                if (start >= to) return;
            }
        }

        private static void Complete(KeyWatchHub hub, KeyWatch watch, KeyWatchEvent e)
        {
            try
            {
                watch.Complete(e);
            }
            catch (Exception failure)
            {
                LogCompletionFailed(hub._logger, failure);
            }
        }
    }
}
