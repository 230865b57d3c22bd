using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>Keeps the sorted names of the registered repositories.</summary>
[GrainType("repos")]
internal sealed class RepositoryIndexGrain([PersistentState("repos")] IPersistentState<RepositoryIndexState> state) : Grain, IRepositoryIndexGrain
{
    public async Task Add(string name)
    {
        var at = state.State.Names.BinarySearch(name, StringComparer.Ordinal);
        if (at >= 0) return;
        state.State.Names.Insert(~at, name);
        await state.WriteStateAsync();
    }

    public async Task Remove(string name)
    {
        if (!state.State.Names.Remove(name)) return;
        await state.WriteStateAsync();
    }

    public Task<List<string>> Names() => Task.FromResult<List<string>>([.. state.State.Names]);
}
