using Platform.Runtime.Hosting;
using Platform.Runtime.Invocation;

namespace Platform.Runtime.Catalog;

/// <summary>The local activations of one stateless-worker grain id: an idle member takes the call, else the pool grows up to its cap.</summary>
internal sealed class StatelessWorkerPool(GrainId grainId, GrainClassRegistration grainClass, GrainRuntime runtime)
{
    private readonly List<ActivationData> _members = [];
    private readonly int _max = grainClass.StatelessWorkerMax;
    private int _next;

    public int Count
    {
        get { lock (_members) return _members.Count; }
    }

    public ActivationData Pick()
    {
        lock (_members)
        {
            foreach (var m in _members)
                if (m.IsIdle) return m;
            if (_members.Count < _max)
            {
                var created = new ActivationData(grainId, grainClass, runtime) { Pool = this };
                _members.Add(created);
                return created;
            }
            return _members[(int)((uint)_next++ % (uint)_members.Count)];
        }
    }

    public void Remove(ActivationData member)
    {
        lock (_members) _members.Remove(member);
    }

    public ActivationData[] Snapshot()
    {
        lock (_members) return [.. _members];
    }
}
