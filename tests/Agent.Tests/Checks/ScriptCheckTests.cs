using Platform.Agent.Tests.Support;
using Platform.Agent.Checks;

namespace Platform.Agent.Tests.Checks;

public sealed class ScriptCheckTests : IDisposable
{
    private readonly TempFolder _folder = new();

    public void Dispose() => _folder.Dispose();

    private static async Task<Protocol.CheckState> FirstState(string check)
    {
        await using var recorder = new CheckRecorder("[" + check + "]", new ManualClock());
        recorder.Set.Start();
        return await recorder.NextChange();
    }

    [Fact]
    public async Task Exit_0_is_passing_with_the_output()
    {
        var state = await FirstState("""{"id": "ok", "name": "OK", "script": "echo all good", "interval": "10s", "status": "warning"}""");
        Assert.Equal(new Protocol.CheckState("ok", "OK", CheckStatus.Passing, "all good\n"), state);
    }

    [Fact]
    public async Task Exit_1_is_warning()
    {
        var state = await FirstState("""{"name": "w", "script": "echo disk at 85%; exit 1", "interval": "10s"}""");
        Assert.Equal((CheckStatus.Warning, "disk at 85%\n"), (state.Status, state.Output));
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(255)]
    public async Task Any_other_exit_code_is_critical(int code)
    {
        var state = await FirstState($$"""{"name": "c", "script": "echo down >&2; exit {{code}}", "interval": "10s", "status": "passing"}""");
        Assert.Equal((CheckStatus.Critical, "down\n"), (state.Status, state.Output));
    }

    [Fact]
    public async Task Args_run_without_a_shell()
    {
        var state = await FirstState("""{"name": "a", "args": ["/bin/echo", "$HOME", "a;b"], "interval": "10s"}""");
        Assert.Equal((CheckStatus.Passing, "$HOME a;b\n"), (state.Status, state.Output));
    }

    [Fact]
    public async Task Command_that_cannot_start_is_critical_with_the_reason()
    {
        var state = await FirstState("""{"name": "m", "args": ["/nonexistent/check_mem"], "interval": "10s", "status": "passing"}""");
        Assert.Equal(CheckStatus.Critical, state.Status);
        Assert.Contains("/nonexistent/check_mem", state.Output);
    }

    [Fact]
    public async Task Output_over_4_KiB_keeps_the_last_4_KiB_after_Consul_note()
    {
        // 9,997 'a's then "END": 10,000 bytes of which the last 4,096 are kept.
        var state = await FirstState("""{"name": "big", "script": "head -c 9997 /dev/zero | tr '\\0' a; printf END", "interval": "10s"}""");
        Assert.Equal(CheckStatus.Passing, state.Status);
        Assert.Equal("Captured 4096 of 10000 bytes\n...\n" + new string('a', 4093) + "END", state.Output);
    }

    [Fact]
    public async Task Output_limit_follows_the_options()
    {
        await using var recorder = new CheckRecorder(
            """[{"name": "big", "script": "printf 0123456789", "interval": "10s"}]""", new ManualClock(),
            new CheckOptions { EnableScriptChecks = true, OutputMaxSize = 4 });
        recorder.Set.Start();
        Assert.Equal("Captured 4 of 10 bytes\n...\n6789", (await recorder.NextChange()).Output);
    }

    [Fact]
    public async Task Script_past_its_timeout_is_critical_and_killed_with_its_children()
    {
        var clock = new ManualClock();
        var shellPid = _folder.File("shell.pid");
        var childPid = _folder.File("child.pid");
        await using var recorder = new CheckRecorder($$"""
            [{"name": "slow", "script": "echo started; echo $$ > {{shellPid}}; sleep 60 & echo $! > {{childPid}}; wait", "interval": "10s", "timeout": "5s", "status": "passing"}]
            """, clock);
        recorder.Set.Start();

        // The run's timeout timer exists and the script is in its sleep: now the timeout may pass.
        await Eventually.True(() => clock.PendingDueTimes.Count == 1 && ReadPid(childPid) is not null, "the script starting its sleep");
        clock.Advance(TimeSpan.FromSeconds(5));

        var state = await recorder.NextChange();
        Assert.Equal((CheckStatus.Critical, "Timed out (5s) running check\n\nstarted\n"), (state.Status, state.Output));
        // The shell was waited for before the result; its child dies as soon as the kernel delivers the kill.
        Assert.True(Eventually.ProcessIsGone(ReadPid(shellPid)!.Value), "the shell still runs");
        var child = ReadPid(childPid)!.Value;
        await Eventually.True(() => Eventually.ProcessIsGone(child), "the shell's child dying");
    }

    private static int? ReadPid(string path)
        => File.Exists(path) && int.TryParse(File.ReadAllText(path).Trim(), out var pid) ? pid : null;
}
