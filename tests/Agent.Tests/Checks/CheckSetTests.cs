using Platform.Agent.Tests.Support;
using Platform.Agent.Checks;
using Platform.Protocol;

namespace Platform.Agent.Tests.Checks;

public sealed class CheckSetTests : IDisposable
{
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(10);
    private readonly TempFolder _folder = new();
    private readonly ManualClock _clock = new();

    public void Dispose() => _folder.Dispose();

    /// <summary>A script check whose output and exit code are read from files the test writes.</summary>
    private CheckRecorder ScriptFromFiles(string output, int code, string extra = "")
    {
        Set(output, code);
        return new CheckRecorder($$"""
            [{"id": "file", "name": "File", "script": "cat {{_folder.File("out")}}; exit $(cat {{_folder.File("code")}})", "interval": "10s"{{extra}}}]
            """, _clock);
    }

    private void Set(string output, int code)
    {
        File.WriteAllText(_folder.File("out"), output);
        File.WriteAllText(_folder.File("code"), code.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>Starts the set and waits for the first run to end, so the next one is scheduled.</summary>
    private static async Task<CheckResult> Start(CheckRecorder recorder)
    {
        recorder.Set.Start();
        return await recorder.NextRun("file");
    }

    /// <summary>Moves time to the next run and waits for it to finish.</summary>
    private async Task<CheckResult> NextRun(CheckRecorder recorder)
    {
        _clock.Advance(s_interval);
        return await recorder.NextRun("file");
    }

    [Fact]
    public async Task Before_any_run_checks_show_their_initial_status()
    {
        await using var recorder = new CheckRecorder("""
            [{"id": "a", "name": "A", "ttl": "10s"}, {"id": "b", "name": "B", "ttl": "10s", "status": "passing"}]
            """, _clock);
        Assert.Equal(
            [new CheckState("a", "A", CheckStatus.Critical, ""), new CheckState("b", "B", CheckStatus.Passing, "")],
            recorder.Set.Current);
    }

    [Fact]
    public async Task Change_is_reported_only_when_status_or_output_changes()
    {
        await using var recorder = ScriptFromFiles("a", 0);
        await Start(recorder);
        Assert.Equal(new CheckState("file", "File", CheckStatus.Passing, "a"), await recorder.NextChange());

        await NextRun(recorder);
        // The run is over and reported nothing: the callback would have come before the run's end.
        Assert.Equal(0, recorder.PendingChanges);

        Set("b", 0);
        await NextRun(recorder);
        Assert.Equal(new CheckState("file", "File", CheckStatus.Passing, "b"), await recorder.NextChange());

        Set("b", 1);
        await NextRun(recorder);
        Assert.Equal(new CheckState("file", "File", CheckStatus.Warning, "b"), await recorder.NextChange());
        Assert.Equal(0, recorder.PendingChanges);
    }

    [Fact]
    public async Task Next_run_is_due_one_interval_after_the_last_ends()
    {
        await using var recorder = ScriptFromFiles("a", 0);
        await Start(recorder);
        Assert.Equal([_clock.GetUtcNow() + s_interval], _clock.PendingDueTimes);

        _clock.Advance(TimeSpan.FromSeconds(3));
        Assert.Equal([_clock.GetUtcNow() + TimeSpan.FromSeconds(7)], _clock.PendingDueTimes);
        _clock.Advance(TimeSpan.FromSeconds(7));
        await recorder.NextRun("file");
        Assert.Equal([_clock.GetUtcNow() + s_interval], _clock.PendingDueTimes);
    }

    [Fact]
    public async Task Interval_below_one_second_is_raised_to_one_second_as_in_Consul()
    {
        await using var recorder = new CheckRecorder("""[{"name": "fast", "script": "true", "interval": "100ms"}]""", _clock);
        recorder.Set.Start();
        await recorder.NextRun("fast");
        Assert.Equal([_clock.GetUtcNow() + TimeSpan.FromSeconds(1)], _clock.PendingDueTimes);
    }

    [Fact]
    public async Task Failures_before_critical_holds_the_status_until_that_many_failures_in_a_row()
    {
        await using var recorder = ScriptFromFiles("up", 0, """, "failures_before_critical": 3""");
        await Start(recorder);
        Assert.Equal(CheckStatus.Passing, (await recorder.NextChange()).Status);

        Set("down", 2);
        Assert.Equal(CheckStatus.Critical, (await NextRun(recorder)).Status);
        Assert.Equal(CheckStatus.Critical, (await NextRun(recorder)).Status);
        Assert.Equal(0, recorder.PendingChanges);
        Assert.Equal(new CheckState("file", "File", CheckStatus.Passing, "up"), recorder.Set.Current[0]);

        await NextRun(recorder);
        Assert.Equal(new CheckState("file", "File", CheckStatus.Critical, "down"), await recorder.NextChange());
    }

    [Fact]
    public async Task A_success_between_failures_starts_the_count_again()
    {
        await using var recorder = ScriptFromFiles("up", 0, """, "failures_before_critical": 2""");
        await Start(recorder);
        await recorder.NextChange();

        Set("down", 2);
        await NextRun(recorder);
        Set("up", 0);
        await NextRun(recorder);
        Set("down", 2);
        await NextRun(recorder);
        Assert.Equal(0, recorder.PendingChanges);
        await NextRun(recorder);
        Assert.Equal(CheckStatus.Critical, (await recorder.NextChange()).Status);
    }

    [Fact]
    public async Task Success_before_passing_holds_critical_until_that_many_successes_in_a_row()
    {
        await using var recorder = ScriptFromFiles("down", 2, """, "success_before_passing": 2""");
        await Start(recorder);
        // The first result applies at once: Consul starts the counters at their thresholds.
        Assert.Equal(new CheckState("file", "File", CheckStatus.Critical, "down"), await recorder.NextChange());

        Set("up", 0);
        await NextRun(recorder);
        Assert.Equal(0, recorder.PendingChanges);
        await NextRun(recorder);
        Assert.Equal(new CheckState("file", "File", CheckStatus.Passing, "up"), await recorder.NextChange());
    }

    [Fact]
    public async Task Failures_before_warning_shows_warning_before_critical()
    {
        await using var recorder = ScriptFromFiles("up", 0, """, "failures_before_warning": 1, "failures_before_critical": 2""");
        await Start(recorder);
        await recorder.NextChange();

        Set("down", 2);
        await NextRun(recorder);
        Assert.Equal(new CheckState("file", "File", CheckStatus.Warning, "down"), await recorder.NextChange());
        await NextRun(recorder);
        Assert.Equal(new CheckState("file", "File", CheckStatus.Critical, "down"), await recorder.NextChange());
    }

    [Fact]
    public async Task Timed_out_script_is_critical_at_once_whatever_the_threshold_as_in_Consul()
    {
        var marker = _folder.File("started");
        await using var recorder = new CheckRecorder($$"""
            [{"name": "slow", "script": "touch {{marker}}; sleep 60", "interval": "10s", "timeout": "2s", "status": "passing", "failures_before_critical": 5}]
            """, _clock);
        recorder.Set.Start();
        await Eventually.True(() => _clock.PendingDueTimes.Count == 1 && File.Exists(marker), "the script starting");
        _clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(new CheckState("slow", "slow", CheckStatus.Critical, "Timed out (2s) running check"), await recorder.NextChange());
    }

    [Fact]
    public async Task Disposing_kills_a_running_script_and_reports_nothing_after()
    {
        var pidFile = _folder.File("pid");
        var recorder = new CheckRecorder($$"""
            [{"name": "slow", "script": "echo $$ > {{pidFile}}; exec sleep 60", "interval": "10s"}]
            """, _clock);
        recorder.Set.Start();
        await Eventually.True(() => File.Exists(pidFile) && File.ReadAllText(pidFile).EndsWith('\n'), "the script starting");
        var pid = int.Parse(File.ReadAllText(pidFile).Trim(), System.Globalization.CultureInfo.InvariantCulture);

        await recorder.DisposeAsync();

        Assert.True(Eventually.ProcessIsGone(pid), "the script still runs after the set was disposed");
        Assert.Equal(0, recorder.PendingChanges);
    }

    [Fact]
    public async Task Checks_run_side_by_side_each_on_its_own_timer()
    {
        await using var recorder = new CheckRecorder("""
            [{"name": "one", "script": "echo 1", "interval": "10s"}, {"name": "two", "script": "echo 2", "interval": "15s"}]
            """, _clock);
        recorder.Set.Start();
        Assert.Equal("1\n", (await recorder.NextRun("one")).Output);
        Assert.Equal("2\n", (await recorder.NextRun("two")).Output);
        var start = _clock.GetUtcNow();
        Assert.Equal([start + TimeSpan.FromSeconds(10), start + TimeSpan.FromSeconds(15)], _clock.PendingDueTimes);
    }

    [Fact]
    public void Script_check_is_refused_by_a_set_whose_options_disable_scripts()
    {
        var definition = new CheckDefinition { Id = "x", Name = "x", Kind = CheckKind.Script, Script = "true", Interval = s_interval };
        var error = Assert.Throws<ArgumentException>(() => new CheckSet([definition], _ => { }, new CheckOptions()));
        Assert.StartsWith("check 'x' runs a command, but script checks are disabled", error.Message);
    }
}
