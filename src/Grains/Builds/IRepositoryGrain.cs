using Platform.Builds.Hooks;
using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>A repository (<c>repo/{owner/name}</c>, the name its hooks give): where to clone it, its hook secret, its builds.</summary>
public interface IRepositoryGrain : IGrainWithStringKey
{
    /// <summary>Registers or changes the repository; a null secret keeps the one stored.</summary>
    Task<RepositoryView> Put(RepositorySettings settings);

    [ReadOnly]
    Task<RepositoryView?> Get();

    /// <summary>Forgets the repository (its builds stay); false when it was not registered.</summary>
    Task<bool> Delete();

    /// <summary>A hook delivery read by <see cref="HookParser"/>: checks its signature against the secret, ignores redeliveries, starts a build per pushed branch.</summary>
    Task<HookOutcome> Deliver(string provider, string? signature, byte[] body, string? deliveryId, List<PushEvent> pushes);

    /// <summary>Starts a build of <paramref name="branch"/> at <paramref name="commit"/>; null build id and an error when the repository is not registered.</summary>
    Task<StartResult> Start(string branch, string commit, string trigger, string? triggeredBy);

    /// <summary>
    /// As <see cref="Start"/>, once per <paramref name="key"/>: a key seen before answers the build it started (a rule's
    /// start_build finished again after a restart starts nothing new).
    /// </summary>
    Task<StartResult> StartOnce(string key, string branch, string commit, string trigger, string? triggeredBy);

    /// <summary>The ids of the latest builds, newest first.</summary>
    [ReadOnly]
    Task<List<string>> Builds(int limit);
}

/// <summary>What <c>PUT /v1/repos/{name}</c> sets.</summary>
public sealed record RepositorySettings(string CloneUrl, string? Secret, bool CancelRunning, int Priority);

/// <summary>A repository as the API shows it: never its secret, only whether it has one.</summary>
public sealed record RepositoryView(string Name, string CloneUrl, bool HasSecret, bool CancelRunning, int Priority, int NextNumber);

/// <summary>How a hook delivery ended.</summary>
public enum HookStatus
{
    Queued,
    Duplicate,
    UnknownRepository,
    Unauthorized,
}

/// <summary>The outcome of a hook delivery: the builds it started and, per push it did not build, why.</summary>
public sealed record HookOutcome(HookStatus Status, string? Error, List<string> Builds, List<string> Notes);

/// <summary>The outcome of starting a build; <c>New</c> when this call started it (not when a key found an earlier one).</summary>
public sealed record StartResult(string? BuildId, string? Error, bool New = false);
