using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Platform.Builds.Hooks;
using Platform.Runtime;

namespace Platform.Grains.Builds;

/// <summary>
/// A repository: hook deliveries are checked here (the secret never leaves the grain), numbered builds are created
/// here, and a newer build of a branch supersedes the older ones. A build is created before the repository's state
/// records its number: after a crash in between, the redelivery (or the next start) makes the same build again or
/// moves past the number.
/// </summary>
[GrainType("repo")]
internal sealed partial class RepositoryGrain(
    [PersistentState("repo")] IPersistentState<RepositoryState> state,
    IOptions<BuildsOptions> options,
    ILogger<RepositoryGrain> logger) : Grain, IRepositoryGrain
{
    /// <summary>Builds remembered per branch for superseding, and in the listing.</summary>
    private const int BranchMemory = 20;
    private const int RecentMemory = 500;

    private RepositoryState S => state.State;

    private string Name => GetPrimaryKeyString();

    public async Task<RepositoryView> Put(RepositorySettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        S.Registered = true;
        S.CloneUrl = settings.CloneUrl;
        if (settings.Secret is not null) S.Secret = settings.Secret;
        S.CancelRunning = settings.CancelRunning;
        S.Priority = settings.Priority;
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IRepositoryIndexGrain>("default").Add(Name);
        return View();
    }

    public Task<RepositoryView?> Get() => Task.FromResult(S.Registered ? View() : null);

    public async Task<bool> Delete()
    {
        if (!S.Registered) return false;
        // The numbering goes on: a repository registered again never reuses a build id.
        var next = S.NextNumber;
        state.State = new RepositoryState { NextNumber = next };
        await state.WriteStateAsync();
        await GrainFactory.GetGrain<IRepositoryIndexGrain>("default").Remove(Name);
        return true;
    }

    public async Task<HookOutcome> Deliver(string provider, string? signature, byte[] body, string? deliveryId, List<PushEvent> pushes)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(pushes);
        if (!S.Registered)
            return new(HookStatus.UnknownRepository, $"repository '{Name}' is not registered; register it with PUT /v1/repos/{Name} (clone URL and hook secret)", [], []);
        if (string.IsNullOrEmpty(S.Secret))
            return new(HookStatus.Unauthorized, $"repository '{Name}' has no hook secret, so no delivery can be verified; set one with PUT /v1/repos/{Name}", [], []);
        var header = provider == HookParser.GitLab ? "X-Gitlab-Token" : provider == HookParser.GitHub ? "X-Hub-Signature-256" : "X-Hub-Signature";
        if (signature is null) return new(HookStatus.Unauthorized, $"header {header} is missing; the delivery must be signed with the repository's secret", [], []);
        var valid = provider == HookParser.GitLab ? HookSignature.VerifyToken(S.Secret, signature) : HookSignature.VerifyHmacSha256(S.Secret, body, signature);
        if (!valid)
        {
            LogBadSignature(logger, Name, provider);
            return new(HookStatus.Unauthorized, $"header {header} does not match the repository's secret", [], []);
        }
        if (deliveryId is not null && S.Deliveries.Contains(deliveryId))
            return new(HookStatus.Duplicate, null, [], [$"delivery {deliveryId} was received before; nothing new is queued"]);

        var builds = new List<string>();
        var notes = new List<string>();
        foreach (var push in pushes)
        {
            if (push.Deleted) notes.Add($"{Kind(push)} '{push.Ref}' was deleted: nothing to build");
            else if (push.Kind == RefKind.Tag) notes.Add($"tag '{push.Ref}': tag pushes start no build");
            else builds.Add(await StartBuild(push.Ref, push.Commit!, "push", push.Pusher, deliveryId));
        }
        if (deliveryId is not null)
        {
            S.Deliveries.Add(deliveryId);
            var limit = options.Value.DeliveriesRemembered;
            if (S.Deliveries.Count > limit) S.Deliveries.RemoveRange(0, S.Deliveries.Count - limit);
        }
        await state.WriteStateAsync();
        return new(HookStatus.Queued, null, builds, notes);
    }

    public async Task<StartResult> Start(string branch, string commit, string trigger, string? triggeredBy)
    {
        if (!S.Registered) return new(null, $"repository '{Name}' is not registered; register it with PUT /v1/repos/{Name}");
        var id = await StartBuild(branch, commit, trigger, triggeredBy, null);
        await state.WriteStateAsync();
        return new(id, null);
    }

    public async Task<StartResult> StartOnce(string key, string branch, string commit, string trigger, string? triggeredBy)
    {
        foreach (var (known, build) in S.StartedByKey)
            if (known == key) return new(build, null);
        if (!S.Registered) return new(null, $"repository '{Name}' is not registered; register it with PUT /v1/repos/{Name}");
        var id = await StartBuild(branch, commit, trigger, triggeredBy, null);
        S.StartedByKey.Add(new(key, id));
        var limit = options.Value.DeliveriesRemembered;
        if (S.StartedByKey.Count > limit) S.StartedByKey.RemoveRange(0, S.StartedByKey.Count - limit);
        await state.WriteStateAsync();
        return new(id, null, New: true);
    }

    public Task<List<string>> Builds(int limit)
    {
        var ids = new List<string>(Math.Min(limit, S.Recent.Count));
        for (var i = S.Recent.Count - 1; i >= 0 && ids.Count < limit; i--) ids.Add(BuildId(S.Recent[i]));
        return Task.FromResult(ids);
    }

    /// <summary>Creates the next build of <paramref name="branch"/> and supersedes the branch's older ones; the caller writes the state.</summary>
    private async Task<string> StartBuild(string branch, string commit, string trigger, string? triggeredBy, string? deliveryId)
    {
        var spec = new BuildSpec(Name, S.CloneUrl, branch, commit, trigger, triggeredBy, deliveryId, S.Priority);
        while (true)
        {
            var number = S.NextNumber++;
            var id = BuildId(number);
            if (await GrainFactory.GetGrain<IBuildGrain>(id).Create(spec, number) == CreateResult.Taken) continue;
            if (!S.BranchBuilds.TryGetValue(branch, out var numbers)) S.BranchBuilds[branch] = numbers = [];
            foreach (var older in numbers)
                if (older != number) await GrainFactory.GetGrain<IBuildGrain>(BuildId(older)).Supersede(id, S.CancelRunning);
            if (!numbers.Contains(number)) numbers.Add(number);
            if (numbers.Count > BranchMemory) numbers.RemoveAt(0);
            if (!S.Recent.Contains(number)) S.Recent.Add(number);
            if (S.Recent.Count > RecentMemory) S.Recent.RemoveAt(0);
            return id;
        }
    }

    private string BuildId(int number) => BuildGrainKeys.Build(Name, number);

    private static string Kind(PushEvent push) => push.Kind == RefKind.Tag ? "tag" : "branch";

    private RepositoryView View() => new(Name, S.CloneUrl, !string.IsNullOrEmpty(S.Secret), S.CancelRunning, S.Priority, S.NextNumber);
}
