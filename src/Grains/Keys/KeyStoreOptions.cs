namespace Platform.Grains.Keys;

/// <summary>Tunables of one keyspace.</summary>
public sealed class KeyStoreOptions
{
    /// <summary>How many of the latest events (across all keys) watchers can catch up on with <c>waitIndex</c>. Default 1000, as etcd.</summary>
    public int HistoryCapacity { get; set; } = 1000;
}
