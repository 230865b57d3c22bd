using Platform.Runtime.Membership;

namespace Platform.Runtime.Placement;

/// <summary>
/// Deterministic placement: a grain lives on the active silo with the highest score
/// hash(grain, silo) (rendezvous hashing). Every silo with the same view computes the same owner
/// with no directory to keep or look up; when a silo joins or leaves, only the grains whose top
/// score changes move (about 1/N). The trade-off: no per-grain placement choices and no load
/// awareness, and ownership follows the view, so silos with different views briefly disagree —
/// calls are then forwarded, and storage ETags keep a brief duplicate from overwriting newer state.
/// Observers live where they were created; stateless workers are always local.
/// </summary>
internal sealed class RendezvousPlacement(SiloAddress self)
{
    private static readonly TimeSpan HandoffWindow = TimeSpan.FromSeconds(30);

    private Table _current = new([], self);
    private Table? _previous;
    private long _previousUntil;

    public SiloAddress Self { get; } = self;

    /// <summary>Entered around routing a call to another silo, so that a view change can wait out the calls routed before it.</summary>
    public RouteEpochs Routes { get; } = new();

    public void Update(ClusterView view)
    {
        var next = new Table([.. view.ActiveSilos], Self);
        _previous = Volatile.Read(ref _current);
        Volatile.Write(ref _previousUntil, Environment.TickCount64 + (long)HandoffWindow.TotalMilliseconds);
        Volatile.Write(ref _current, next);
    }

    /// <summary>The silo a call to <paramref name="grain"/> goes to under the current view.</summary>
    public SiloAddress OwnerOf(GrainId grain)
    {
        if (grain.Type == Catalog.Catalog.ObserverType) return ObserverHost(grain) ?? Self;
        if (Invocation.GrainTypeRegistry.TryGetClass(grain.Type, out var cls) && cls.StatelessWorkerMax > 0) return Self;
        return Volatile.Read(ref _current).Owner(grain);
    }

    /// <summary>The owner under the view before the last change, during a short window after it; null otherwise.</summary>
    public SiloAddress? PreviousOwnerOf(GrainId grain)
    {
        var previous = _previous;
        if (previous is null || Environment.TickCount64 > Volatile.Read(ref _previousUntil)) return null;
        return previous.Owner(grain);
    }

    /// <summary>Object-reference keys start with the hosting silo: "host:port@gen/guid".</summary>
    public static string ObserverKey(SiloAddress host) => $"{host}/{Guid.NewGuid():N}";

    private static SiloAddress? ObserverHost(GrainId grain)
    {
        var slash = grain.Key.LastIndexOf('/');
        if (slash <= 0) return null;
        try
        {
            return SiloAddress.Parse(grain.Key[..slash]);
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private sealed class Table
    {
        private readonly SiloAddress[] _silos;
        private readonly ulong[] _siloHashes;
        private readonly SiloAddress _self;

        public Table(SiloAddress[] silos, SiloAddress self)
        {
            _silos = silos;
            _self = self;
            _siloHashes = new ulong[silos.Length];
            for (var i = 0; i < silos.Length; i++) _siloHashes[i] = Fnv64(silos[i].ToString(), 14695981039346656037UL);
        }

        public SiloAddress Owner(GrainId grain)
        {
            if (_silos.Length == 0) return _self;
            if (_silos.Length == 1) return _silos[0];
            var h = Fnv64(grain.Key, Fnv64(grain.Type, 14695981039346656037UL) ^ '/');
            var best = 0;
            var bestScore = 0UL;
            for (var i = 0; i < _silos.Length; i++)
            {
                var score = Mix(h ^ _siloHashes[i]);
                if (score > bestScore || i == 0)
                {
                    bestScore = score;
                    best = i;
                }
            }
            return _silos[best];
        }
    }

    /// <summary>FNV-1a: deterministic across processes (string.GetHashCode is not).</summary>
    private static ulong Fnv64(string text, ulong hash)
    {
        foreach (var c in text)
        {
            hash = (hash ^ (byte)c) * 1099511628211UL;
            hash = (hash ^ (byte)(c >> 8)) * 1099511628211UL;
        }
        return hash;
    }

    /// <summary>SplitMix64 finalizer: spreads the combined hash so scores are independent per silo.</summary>
    private static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
