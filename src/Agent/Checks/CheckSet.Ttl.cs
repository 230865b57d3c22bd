namespace Platform.Agent.Checks;

public sealed partial class CheckSet
{
    /// <summary>TTL check <paramref name="id"/> is passing with <paramref name="note"/> as its output, for another TTL (Consul's <c>/v1/agent/check/pass</c>).</summary>
    public void Pass(string id, string? note = null) => Update(id, CheckStatus.Passing, note);

    /// <summary>TTL check <paramref name="id"/> is warning with <paramref name="note"/> as its output, for another TTL.</summary>
    public void Warn(string id, string? note = null) => Update(id, CheckStatus.Warning, note);

    /// <summary>TTL check <paramref name="id"/> is critical with <paramref name="note"/> as its output, for another TTL.</summary>
    public void Fail(string id, string? note = null) => Update(id, CheckStatus.Critical, note);

    /// <summary>
    /// Sets TTL check <paramref name="id"/> to <paramref name="status"/> and restarts its TTL. Throws
    /// <see cref="KeyNotFoundException"/> for an unknown id and <see cref="InvalidOperationException"/> for a check without a TTL, with Consul's messages.
    /// </summary>
    public void Update(string id, string status, string? note)
    {
        if (!CheckStatus.IsValid(status))
            throw new ArgumentException($"status \"{status}\" is not a check status; expected passing, warning or critical", nameof(status));
        if (!_checks.TryGetValue(id, out var check))
            throw new KeyNotFoundException($"Unknown check ID \"{id}\". Ensure that the check ID is passed, not the check name.");
        if (check.Definition.Kind != CheckKind.Ttl)
            throw new InvalidOperationException($"CheckID \"{id}\" does not have associated TTL");

        var output = CheckOutputText.LimitHead(note ?? "", _options.OutputMaxSize);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_stopping.IsCancellationRequested, this);
            check.LastTtlOutput = output;
            check.Timer ??= _time.CreateTimer(static state => ((TtlExpiry)state!).Fire(), new TtlExpiry(this, check), Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
            check.Timer.Change(check.Definition.Ttl!.Value, Timeout.InfiniteTimeSpan);
            Report(check, new CheckResult(status, output));
        }
    }

    private void Expire(RunningCheck check)
    {
        string last;
        lock (_gate) last = check.LastTtlOutput;
        // Consul's wording, so tools that read check output see the same text.
        var output = last.Length == 0 ? "TTL expired" : $"TTL expired (last output before timeout follows): {last}";
        Report(check, new CheckResult(CheckStatus.Critical, output));
    }

    /// <summary>Timer state of a TTL check: no report came within the TTL.</summary>
    private sealed class TtlExpiry(CheckSet set, RunningCheck check)
    {
        public void Fire() => set.Expire(check);
    }
}
