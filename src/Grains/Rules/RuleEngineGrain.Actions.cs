using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Grains.Keys;
using Platform.Protocol;
using Platform.Runtime;
using Platform.Runtime.Transport;

namespace Platform.Grains.Rules;

/// <summary>
/// Running intents: each action through the grains the APIs use (so watchers and agents see it), or through the
/// build and deploy starters when this silo has them. A recovered intent first checks whether each effect is there.
/// </summary>
internal sealed partial class RuleEngineGrain
{
    public async Task RunPending()
    {
        while (S.Pending.Count != 0)
        {
            var intent = S.Pending[0];
            var recovering = !_fresh.Remove(intent.Id);
            var run = await ExecuteAsync(intent, recovering);
            S.Pending.RemoveAt(0);
            AddRun(run);
            Remember(intent.Id);
            await WriteAsync();
        }
    }

    private async Task<RuleRun> ExecuteAsync(RuleIntent intent, bool recovering)
    {
        var results = new List<RuleActionResult>(intent.Actions.Count);
        string? error = null;
        for (var i = 0; i < intent.Actions.Count; i++)
        {
            var type = intent.Actions[i].Type;
            RuleActionResult result;
            try
            {
                result = await ActAsync(intent, i, recovering).WaitAsync(_options.ActionTimeout);
            }
            catch (RuleActionException e)
            {
                result = new(type, RuleOutcomes.Failed, null, e.Message);
            }
            catch (TimeoutException)
            {
                result = new(type, RuleOutcomes.Failed, null, $"did not finish within {_options.ActionTimeout.TotalSeconds:0.###} s (Platform:Rules:ActionTimeout)");
            }
            catch (Exception e) when (StorageUnavailableException.IsCauseOf(e) || e is SiloUnavailableException)
            {
                // Not this run's fault: the intent stays recorded and is tried again (as a recovery) at the next renewal.
                _fresh.Remove(intent.Id);
                throw;
            }
            catch (Exception e)
            {
                LogActionFailed(logger, e, intent.RuleId, i, type);
                result = new(type, RuleOutcomes.Failed, null, e.Message);
            }
            results.Add(result);
            if (result.Outcome == RuleOutcomes.Failed) error ??= $"actions[{i}] ({type}): {result.Error}";
        }
        if (error is not null) LogRunFailed(logger, intent.RuleId, intent.Occurrence, error);
        return new RuleRun(intent.Id, intent.RuleId, intent.Trigger, intent.Occurrence, intent.Facts, intent.Depth, intent.At, DateTimeOffset.UtcNow,
            error is null ? RuleOutcomes.Succeeded : RuleOutcomes.Failed, results, error);
    }

    private Task<RuleActionResult> ActAsync(RuleIntent intent, int index, bool recovering)
    {
        var action = intent.Actions[index];
        var baseline = index < intent.Baselines.Count ? intent.Baselines[index] : 0;
        return action.Type switch
        {
            RuleActionTypes.SetKey => SetKeyAsync(intent, action, baseline, recovering),
            RuleActionTypes.FireEvent => FireEventAsync(intent, action, baseline, recovering),
            RuleActionTypes.StartBuild => StartBuildAsync(intent, action, index),
            RuleActionTypes.StartDeploy => StartDeployAsync(intent, action, index),
            _ => throw new RuleActionException($"'{action.Type}' is not an action type"),
        };
    }

    /// <summary>Per action, what its target looked like before: a set_key's key index, a fire_event's user-event Lamport time.</summary>
    private async Task<List<ulong>> BaselinesAsync(List<RuleAction> actions, Dictionary<string, string> facts)
    {
        var baselines = new List<ulong>(actions.Count);
        ulong? lTime = null;
        foreach (var action in actions)
        {
            switch (action.Type)
            {
                case RuleActionTypes.SetKey when KeyPath.TryNormalize(RuleTemplate.Render(action.Key!, facts), out var key, out _):
                    baselines.Add(await ModifiedIndexAsync(key));
                    break;
                case RuleActionTypes.FireEvent:
                    baselines.Add(lTime ??= await Fleet.UserLTime());
                    break;
                default:
                    baselines.Add(0);
                    break;
            }
        }
        return baselines;
    }

    /// <summary>The key's modified index; 0 when it does not exist.</summary>
    private async Task<ulong> ModifiedIndexAsync(string key)
    {
        var result = await Keyspace.Execute(new KeyRequest { Op = KeyOp.Get, Key = key });
        if (result.Event is { } e) return e.Node.ModifiedIndex;
        if (result.ErrorCode == KeyErrorCode.KeyNotFound) return 0;
        throw new RuleActionException($"reading {key} failed: {result.ErrorCause} (etcd error {(int)result.ErrorCode})");
    }

    private async Task<RuleActionResult> SetKeyAsync(RuleIntent intent, RuleAction action, ulong baseline, bool recovering)
    {
        var text = RuleTemplate.Render(action.Key!, intent.Facts);
        if (!KeyPath.TryNormalize(text, out var key, out var problem))
            throw new RuleActionException($"'{text}' (from '{action.Key}') is not a key: {problem}");
        var value = RuleTemplate.Render(action.Value ?? "", intent.Facts);
        if (recovering && await ModifiedIndexAsync(key) is var now && now != baseline)
            return new(RuleActionTypes.SetKey, RuleOutcomes.Skipped, $"{key} changed since the run was recorded (index {baseline} → {now}): taken as done", null);
        var result = await Keyspace.Execute(new KeyRequest { Op = KeyOp.Set, Key = key, Value = value });
        if (result.Event is not { } e)
            throw new RuleActionException($"setting {key} failed: {result.ErrorCause} (etcd error {(int)result.ErrorCode})");
        if (_keysOn) Produce($"key:{e.Index}", intent.Depth + 1);
        return new(RuleActionTypes.SetKey, RuleOutcomes.Succeeded, $"{key} set (index {e.Index})", null);
    }

    private async Task<RuleActionResult> FireEventAsync(RuleIntent intent, RuleAction action, ulong baseline, bool recovering)
    {
        var name = action.Name!;
        var payload = Encoding.UTF8.GetBytes(RuleTemplate.Render(action.Payload ?? "", intent.Facts));
        if (UserEvents.Validate(name, payload, nodesOptions.Value.UserEventSizeLimit) is { } invalid) throw new RuleActionException(invalid);
        if (recovering)
        {
            foreach (var e in await Fleet.UserEvents(baseline))
                if (e.Name == name && e.Payload.AsSpan().SequenceEqual(payload))
                    return new(RuleActionTypes.FireEvent, RuleOutcomes.Skipped, $"{name} was fired since the run was recorded (Lamport time {e.LTime}): taken as done", null);
        }
        // Not coalesced: every run's event reaches the handlers.
        var fired = await Fleet.FireEvent(name, payload, coalesce: false, nodeFilter: null, tagFilter: null);
        if (_eventsOn) Produce($"event:{fired.Id}", intent.Depth + 1);
        return new(RuleActionTypes.FireEvent, RuleOutcomes.Succeeded, $"{name} fired (Lamport time {fired.LTime}, id {fired.Id})", null);
    }

    private async Task<RuleActionResult> StartBuildAsync(RuleIntent intent, RuleAction action, int index)
    {
        var starter = ServiceProvider.GetService<IBuildStarter>() ?? throw new RuleActionException("builds are not available on this silo");
        var facts = intent.Facts;
        var repo = RuleTemplate.Render(action.Repo!, facts);
        var branch = action.Branch is null ? null : RuleTemplate.Render(action.Branch, facts) is { Length: > 0 } b ? b : null;
        var pipeline = action.Pipeline is null ? null : RuleTemplate.Render(action.Pipeline, facts);
        // The trigger's commit goes along only when the build is of the trigger's repository and branch.
        var commit = facts.TryGetValue(RuleTemplate.Commit, out var c) && c.Length != 0
            && facts.GetValueOrDefault(RuleTemplate.Repo) == repo && facts.GetValueOrDefault(RuleTemplate.Branch) == branch ? c : null;
        var id = await starter.StartBuildAsync(new RuleBuildRequest(repo, branch, commit, pipeline, $"{intent.Id}#{index}", intent.RuleId), CancellationToken.None);
        Produce($"build:{id}", intent.Depth + 1);
        return new(RuleActionTypes.StartBuild, RuleOutcomes.Succeeded, $"build {id} of {repo}{(branch is null ? "" : " " + branch)}", null);
    }

    private async Task<RuleActionResult> StartDeployAsync(RuleIntent intent, RuleAction action, int index)
    {
        var starter = ServiceProvider.GetService<IDeployStarter>() ?? throw new RuleActionException("deploys are not available on this silo");
        var facts = intent.Facts;
        var request = new RuleDeployRequest(
            action.ManifestUrl is null ? null : RuleTemplate.Render(action.ManifestUrl, facts),
            action.Manifest is null ? null : RuleTemplate.Render(action.Manifest, facts),
            action.Target!,
            action.Strategy?.GetRawText(),
            $"{intent.Id}#{index}",
            intent.RuleId,
            action.Stretch?.GetRawText());
        var id = await starter.StartDeployAsync(request, CancellationToken.None);
        return new(RuleActionTypes.StartDeploy, RuleOutcomes.Succeeded, $"deploy {id}", null);
    }
}
