using System.Threading.Channels;
using Platform.Agent.Checks;
using Platform.Protocol;

namespace Platform.Agent.Tests.Checks;

/// <summary>The registered checks the silo sends: started, replaced, stopped, refused with a reason, and ordered by version.</summary>
public sealed class RegisteredChecksTests
{
    private readonly ManualClock _clock = new();
    private readonly Channel<CheckState> _changes = Channel.CreateUnbounded<CheckState>();

    private RegisteredChecks Create(bool allowScripts, params string[] configIds)
        => new(configIds.ToHashSet(StringComparer.Ordinal), allowScripts, state => _changes.Writer.TryWrite(state), time: _clock);

    private async Task<CheckState> NextChange()
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        return await _changes.Reader.ReadAsync(deadline.Token);
    }

    [Fact]
    public async Task A_registered_ttl_check_reports_its_initial_state_takes_reports_and_stops_when_left_out()
    {
        await using var checks = Create(allowScripts: false);
        await checks.ApplyAsync(1, [new("app", """{"ID": "app", "Name": "App", "TTL": "30s"}""")]);
        Assert.Equal(new CheckState("app", "App", CheckStatus.Critical, ""), await NextChange());
        Assert.True(checks.Any);

        Assert.True(checks.TryUpdate("app", CheckStatus.Passing, "up"));
        Assert.Equal(new CheckState("app", "App", CheckStatus.Passing, "up"), await NextChange());
        Assert.False(checks.TryUpdate("other", CheckStatus.Passing, null));

        await checks.ApplyAsync(2, []);
        Assert.False(checks.Any);
        Assert.False(checks.TryUpdate("app", CheckStatus.Passing, null));
    }

    [Fact]
    public async Task A_script_check_without_enable_script_checks_is_critical_naming_the_setting_and_never_runs()
    {
        await using var checks = Create(allowScripts: false);
        await checks.ApplyAsync(1, [new("disk", """{"ID": "disk", "Name": "Disk", "Args": ["/bin/true"], "Interval": "10s"}""")]);
        var state = await NextChange();
        Assert.Equal(("disk", "Disk", CheckStatus.Critical), (state.Id, state.Name, state.Status));
        Assert.Contains("enable_script_checks", state.Output);
        Assert.Throws<InvalidOperationException>(() => checks.TryUpdate("disk", CheckStatus.Passing, null));
    }

    [Fact]
    public async Task A_set_older_than_the_one_applied_is_ignored_until_a_new_connection_resets_the_version()
    {
        await using var checks = Create(allowScripts: false);
        await checks.ApplyAsync(5, [new("app", """{"ID": "app", "Name": "App", "TTL": "30s"}""")]);
        await NextChange();
        await checks.ApplyAsync(4, []);
        Assert.True(checks.Any);

        checks.ResetVersion();
        await checks.ApplyAsync(1, []);
        Assert.False(checks.Any);
    }

    [Fact]
    public async Task A_registered_check_with_a_configured_id_is_not_run()
    {
        await using var checks = Create(allowScripts: true, "cfg");
        await checks.ApplyAsync(1, [new("cfg", """{"ID": "cfg", "Name": "Clash", "TTL": "30s"}""")]);
        Assert.False(checks.Any);
        Assert.False(checks.TryUpdate("cfg", CheckStatus.Passing, null));
    }
}
