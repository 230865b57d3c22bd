namespace Platform.Grains.Keys;

/// <summary>Tunables of one keyspace.</summary>
public sealed class KeyStoreOptions
{
    /// <summary>etcd's history window: 1,000 events.</summary>
    public const int DefaultHistoryCapacity = 1000;

    /// <summary>How many of the latest events (across all keys) watchers can catch up on with <c>waitIndex</c>. Default 1000, as etcd.</summary>
    public int HistoryCapacity { get; set; } = DefaultHistoryCapacity;
}
