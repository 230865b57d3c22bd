using System.Text.Json;
using Platform.Runtime.Catalog;

namespace Platform.Runtime.Storage;

/// <summary>The <see cref="IPersistentState{TState}"/> behind a grain's [PersistentState] parameter: JSON in an <see cref="IGrainStorage"/>.</summary>
internal sealed class PersistentState<TState>(IGrainStorage storage, GrainId grainId, string stateName) : IPersistentState<TState>
    where TState : new()
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.General) { IncludeFields = true };

    public TState State { get; set; } = new();
    public string? Etag { get; private set; }
    public bool RecordExists { get; private set; }

    public async Task ReadStateAsync()
    {
        var stored = await storage.ReadAsync(grainId.Type, grainId.Key, stateName).ConfigureAwait(false);
        if (stored is { } s)
        {
            State = JsonSerializer.Deserialize<TState>(s.Data.Span, Json) ?? new TState();
            Etag = s.ETag;
            RecordExists = true;
        }
        else
        {
            State = new TState();
            Etag = null;
            RecordExists = false;
        }
    }

    public async Task WriteStateAsync()
    {
        var data = JsonSerializer.SerializeToUtf8Bytes(State, Json);
        Etag = await storage.WriteAsync(grainId.Type, grainId.Key, stateName, data, Etag).ConfigureAwait(false);
        RecordExists = true;
    }

    public async Task ClearStateAsync()
    {
        await storage.ClearAsync(grainId.Type, grainId.Key, stateName, Etag).ConfigureAwait(false);
        Etag = null;
        RecordExists = false;
        State = new TState();
    }
}

/// <summary>Called by generated grain constructors to fill [PersistentState] parameters.</summary>
public static class PersistentStateFactory
{
    /// <summary>Creates the state object of the grain being constructed; it is read before OnActivateAsync.</summary>
    public static IPersistentState<TState> Create<TState>(IServiceProvider services, string stateName, string? storageName) where TState : new()
    {
        var activation = ActivationData.Constructing
            ?? throw new InvalidOperationException("Persistent state can only be created while the runtime constructs a grain.");
        var registry = (IGrainStorageRegistry?)services.GetService(typeof(IGrainStorageRegistry))
            ?? throw new InvalidOperationException("No grain storage is configured: add a provider (AddSqliteGrainStorage, AddPostgreSqlGrainStorage or AddMemoryGrainStorage).");
        var state = new PersistentState<TState>(registry.Get(storageName), activation.GrainId, stateName);
        activation.AddActivationStep(_ => state.ReadStateAsync());
        return state;
    }
}
