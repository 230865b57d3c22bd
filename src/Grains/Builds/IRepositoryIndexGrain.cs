using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>The names of the registered repositories (<c>repos/default</c>), for listings across repositories.</summary>
public interface IRepositoryIndexGrain : IGrainWithStringKey
{
    Task Add(string name);

    Task Remove(string name);

    [ReadOnly]
    Task<List<string>> Names();
}
