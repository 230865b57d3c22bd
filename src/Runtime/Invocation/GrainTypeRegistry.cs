using System.Collections.Concurrent;
using System.Reflection;
using System.Runtime.CompilerServices;

namespace Platform.Runtime.Invocation;

/// <summary>A grain or observer interface: how to make its proxy and which methods it has.</summary>
public sealed class GrainInterfaceRegistration(Type interfaceType, Func<IGrainCallInvoker, GrainId, object> proxyFactory, GrainMethodDescriptor[] methods)
{
    public Type InterfaceType { get; } = interfaceType;
    public Func<IGrainCallInvoker, GrainId, object> ProxyFactory { get; } = proxyFactory;
    public IReadOnlyList<GrainMethodDescriptor> Methods { get; } = methods;

    /// <summary>The grain class that implements this interface (null for observer interfaces or until one registers).</summary>
    public GrainClassRegistration? Implementation { get; internal set; }
}

/// <summary>A grain class: its type name in grain ids, how to construct it, and its scheduling options.</summary>
public sealed class GrainClassRegistration(string grainType, Type classType, Func<IServiceProvider, object> factory, bool reentrant, int statelessWorkerMax, Type[] interfaces)
{
    /// <summary>The type part of this class's grain ids.</summary>
    public string GrainType { get; } = grainType;
    public Type ClassType { get; } = classType;

    /// <summary>Generated constructor call; runs while the activation being created is current.</summary>
    public Func<IServiceProvider, object> Factory { get; } = factory;
    public bool Reentrant { get; } = reentrant;

    /// <summary>Greater than zero for stateless workers: the local pool size.</summary>
    public int StatelessWorkerMax { get; } = statelessWorkerMax;
    public IReadOnlyList<Type> Interfaces { get; } = interfaces;

    /// <summary>Timer ticks count under this pseudo-method.</summary>
    public GrainMethodDescriptor TimerMethod { get; } = new(classType.Name, "<timer>", GrainMethodFlags.None);

    /// <summary>Reminder ticks count under this method.</summary>
    public GrainMethodDescriptor ReminderMethod { get; } = new(nameof(IRemindable), nameof(IRemindable.ReceiveReminder), GrainMethodFlags.None);

    /// <summary>Live activations of this class on this silo.</summary>
    public long ActivationCount => Volatile.Read(ref _activationCount);
    internal long _activationCount;

    /// <summary>Activations of this class that failed (storage unavailable, OnActivateAsync threw) since the process started.</summary>
    public long ActivationFailures => Volatile.Read(ref _activationFailures);
    internal long _activationFailures;

    /// <summary>Activations of this class started since the process started (the failed ones included).</summary>
    public long ActivationAttempts => Volatile.Read(ref _activationAttempts);
    internal long _activationAttempts;
}

/// <summary>
/// Process-wide table of generated proxies and grain classes, filled by generated module initializers.
/// Lookups by interface go through a static generic cache, so a call never consults a dictionary.
/// </summary>
public static class GrainTypeRegistry
{
    private static readonly ConcurrentDictionary<Type, GrainInterfaceRegistration> Interfaces = new();
    private static readonly ConcurrentDictionary<string, GrainClassRegistration> ClassesByType = new(StringComparer.Ordinal);
    private static readonly ConcurrentDictionary<uint, GrainMethodDescriptor> MethodsByWireId = new();

    /// <summary>Registers a generated proxy factory for <typeparamref name="TInterface"/>.</summary>
    public static void RegisterInterface<TInterface>(Func<IGrainCallInvoker, GrainId, TInterface> proxyFactory, params GrainMethodDescriptor[] methods) where TInterface : class
    {
        var registration = new GrainInterfaceRegistration(typeof(TInterface), (i, id) => proxyFactory(i, id), methods);
        Interfaces[typeof(TInterface)] = registration;
        foreach (var m in methods)
        {
            var existing = MethodsByWireId.GetOrAdd(m.WireId, m);
            if (existing.Signature != m.Signature)
                throw new InvalidOperationException($"Grain methods {existing.Signature} and {m.Signature} hash to the same wire id {m.WireId}; rename one.");
        }
        foreach (var cls in ClassesByType.Values)
            if (cls.Interfaces.Contains(typeof(TInterface))) registration.Implementation ??= cls;
        InterfaceCache<TInterface>.Registration = registration;
    }

    /// <summary>Registers a generated grain class.</summary>
    public static void RegisterGrainClass(GrainClassRegistration registration)
    {
        if (!ClassesByType.TryAdd(registration.GrainType, registration) && ClassesByType[registration.GrainType].ClassType != registration.ClassType)
            throw new InvalidOperationException($"Grain type name '{registration.GrainType}' is used by both {ClassesByType[registration.GrainType].ClassType} and {registration.ClassType}; rename one with [GrainType].");
        foreach (var itf in registration.Interfaces)
            if (Interfaces.TryGetValue(itf, out var ir)) ir.Implementation ??= registration;
    }

    /// <summary>Runs the generated registrations of <paramref name="assembly"/> (module initializers run only once an assembly loads).</summary>
    public static void EnsureLoaded(Assembly assembly) => RuntimeHelpers.RunModuleConstructor(assembly.ManifestModule.ModuleHandle);

    /// <summary>The registration of <typeparamref name="TInterface"/>, or an error naming the interface.</summary>
    public static GrainInterfaceRegistration GetInterface<TInterface>()
        => InterfaceCache<TInterface>.Registration ?? LoadInterface<TInterface>();

    private static GrainInterfaceRegistration LoadInterface<TInterface>()
    {
        EnsureLoaded(typeof(TInterface).Assembly);
        return InterfaceCache<TInterface>.Registration ?? throw new RuntimeRejectedException($"No generated proxy for {typeof(TInterface).FullName}: the interface must derive from IGrainWithStringKey or IGrainObserver and its assembly must reference the Platform.Runtime code generator.");
    }

    /// <summary>The method with this wire id, for calls arriving from other silos.</summary>
    public static bool TryGetMethod(uint wireId, out GrainMethodDescriptor method) => MethodsByWireId.TryGetValue(wireId, out method!);

    /// <summary>The grain class registered under a grain type name.</summary>
    public static bool TryGetClass(string grainType, out GrainClassRegistration registration) => ClassesByType.TryGetValue(grainType, out registration!);

    /// <summary>Every registered grain class.</summary>
    public static IEnumerable<GrainClassRegistration> Classes => ClassesByType.Values;

    /// <summary>Every registered interface.</summary>
    public static IEnumerable<GrainInterfaceRegistration> AllInterfaces => Interfaces.Values;

    private static class InterfaceCache<T>
    {
        public static GrainInterfaceRegistration? Registration;
    }
}
