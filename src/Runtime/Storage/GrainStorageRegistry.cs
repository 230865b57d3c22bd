using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;

namespace Platform.Runtime.Storage;

/// <summary>Resolves grain storage providers registered as keyed <see cref="IGrainStorage"/> services.</summary>
public sealed class GrainStorageRegistry : IGrainStorageRegistry
{
    /// <summary>The provider a grain gets when its state names none.</summary>
    public const string DefaultName = "Default";

    private readonly IServiceProvider _services;
    private readonly IReadOnlyList<string> _registeredNames;
    private readonly ConcurrentDictionary<string, IGrainStorage> _resolved = new(StringComparer.Ordinal);

    /// <summary>Creates a registry over <paramref name="services"/>; <paramref name="registeredNames"/> only feeds error messages.</summary>
    public GrainStorageRegistry(IServiceProvider services, IEnumerable<GrainStorageName> registeredNames)
    {
        _services = services;
        _registeredNames = [.. registeredNames.Select(n => n.Name).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
    }

    /// <inheritdoc />
    public IGrainStorage Get(string? name)
    {
        name ??= DefaultName;
        if (_resolved.TryGetValue(name, out var storage))
        {
            return storage;
        }

        storage = _services.GetKeyedService<IGrainStorage>(name) ?? throw new InvalidOperationException(
            $"No grain storage provider named '{name}' is registered; registered: " +
            (_registeredNames.Count == 0 ? "none" : string.Join(", ", _registeredNames.Select(n => $"'{n}'"))) +
            ". Register it with AddMemoryGrainStorage, AddSqliteGrainStorage or AddPostgreSqlGrainStorage.");
        return _resolved.GetOrAdd(name, storage);
    }
}

/// <summary>Records that a grain storage provider was registered under <paramref name="Name"/>.</summary>
public sealed record GrainStorageName(string Name);
