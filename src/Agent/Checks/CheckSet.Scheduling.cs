using Microsoft.Extensions.Logging;

namespace Platform.Agent.Checks;

public sealed partial class CheckSet
{
    /// <summary>
    /// Starts the checks: each interval check runs at once, then <c>interval</c> after each run ends; each TTL
    /// check's TTL starts. Timers come from the set's <see cref="TimeProvider"/>; no check holds a thread.
    /// </summary>
    public void Start()
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            if (_started) throw new InvalidOperationException("the check set is already started");
            _started = true;
            foreach (var check in _ordered)
            {
                if (check.Probe is null)
                {
                    check.Timer ??= _time.CreateTimer(static state => ((TtlExpiry)state!).Fire(), new TtlExpiry(this, check), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                    check.Timer.Change(check.Definition.Ttl!.Value, Timeout.InfiniteTimeSpan);
                    continue;
                }
                if (check.Definition.Interval < CheckDefinition.MinInterval)
                    LogIntervalBelowMinimum(_logger, check.Definition.Id, check.Definition.Interval, CheckDefinition.MinInterval);
                check.Timer = _time.CreateTimer(static state => ((IntervalRun)state!).Fire(), new IntervalRun(this, check), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
                check.Running = RunAsync(check);
            }
        }
    }

    private void RunDue(RunningCheck check)
    {
        lock (_gate)
        {
            if (_stopping.IsCancellationRequested) return;
            check.Running = RunAsync(check);
        }
    }

    private async Task RunAsync(RunningCheck check)
    {
        // Off the caller's thread: Start holds the lock, and a timer's thread must not run a probe.
        await Task.Yield();
        CheckResult result;
        try
        {
            result = await check.Probe!.RunAsync(_stopping.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            LogCheckFailedToRun(_logger, e, check.Definition.Id);
            result = new CheckResult(CheckStatus.Critical, e.Message);
        }

        var applied = result.SkipsThresholds ? result : check.Thresholds.Apply(result);
        if (applied is { } change) Report(check, change);
        else
            LogBelowThreshold(_logger, check.Definition.Id, result.Status);

        lock (_gate)
        {
            if (_stopping.IsCancellationRequested) return;
            check.Timer!.Change(check.Definition.EffectiveInterval, Timeout.InfiniteTimeSpan);
        }
        // Last, so whoever hears of the run finds the next one already scheduled.
        ProbeFinished?.Invoke(check.Definition.Id, result);
    }

    /// <summary>Timer state of an interval check: the next run is due.</summary>
    private sealed class IntervalRun(CheckSet set, RunningCheck check)
    {
        public void Fire() => set.RunDue(check);
    }
}
