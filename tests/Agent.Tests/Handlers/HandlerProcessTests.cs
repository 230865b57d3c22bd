using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Agent.Handlers;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.Handlers;

public sealed class HandlerProcessTests
{
    private static readonly HandlerProcess Process = new(TimeProvider.System, NullLogger.Instance);
    private static readonly Dictionary<string, string> Tags = new() { ["role"] = "web", ["web-tier"] = "front" };

    private static Task<HandlerResult> Run(string script, HandlerEvent e, TimeSpan? timeout = null)
        => Process.RunAsync(new EventScript("*", "", script), e, "web-1", Tags, timeout, CancellationToken.None);

    [Fact]
    public async Task Handler_gets_serfs_environment_and_the_payload_on_stdin()
    {
        var result = await Run(
            "echo \"$SERF_EVENT|$SERF_SELF_NAME|$SERF_SELF_ROLE|$SERF_TAG_WEB_TIER|$SERF_USER_EVENT|$SERF_USER_LTIME\"; cat",
            new UserHandlerEvent("deploy", Encoding.UTF8.GetBytes("v1.2"), 17, true));

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("user|web-1|web|front|deploy|17\nv1.2\n", Encoding.UTF8.GetString(result.Output));
    }

    [Fact]
    public async Task Member_event_stdin_reaches_the_script_unchanged()
    {
        var e = new MemberHandlerEvent("member-join", [new("web-2", "10.0.0.2", 7946, new Dictionary<string, string> { ["role"] = "web" }, "alive", 5)]);
        var result = await Run("cat", e);
        Assert.Equal("web-2\t10.0.0.2\tweb\trole=web\n", Encoding.UTF8.GetString(result.Output));
    }

    [Fact]
    public async Task Stdout_and_stderr_are_captured_together_in_order()
    {
        var result = await Run("echo one; echo two >&2; echo three", new UserHandlerEvent("e", [], 1, false));
        Assert.Equal("one\ntwo\nthree\n", Encoding.UTF8.GetString(result.Output));
    }

    [Fact]
    public async Task Exit_status_is_reported()
    {
        var result = await Run("echo failing; exit 3", new UserHandlerEvent("e", [], 1, false));
        Assert.Equal(3, result.ExitCode);
        Assert.False(result.Succeeded);
        Assert.Equal("failing\n", Encoding.UTF8.GetString(result.Output));
    }

    [Fact]
    public async Task Only_the_last_8_KB_of_output_is_kept()
    {
        var result = await Run("head -c 10000 /dev/zero | tr '\\000' a; printf END", new UserHandlerEvent("e", [], 1, false));

        Assert.Equal(10003, result.OutputWritten);
        Assert.Equal(8192, result.Output.Length);
        Assert.EndsWith("aaaEND", Encoding.ASCII.GetString(result.Output));
    }

    [Fact]
    public async Task A_script_that_ignores_its_stdin_still_completes()
    {
        var payload = new byte[256 * 1024];
        var result = await Run("exit 0", new UserHandlerEvent("e", payload, 1, false));
        Assert.Equal(0, result.ExitCode);
    }

    [Fact]
    public async Task Handler_past_its_timeout_is_killed_with_its_process_group()
    {
        using var dir = new TempDir();
        var pidFile = dir.File("child.pid");
        var result = await Run($"sleep 60 & echo $! > {pidFile}; wait", new UserHandlerEvent("e", [], 1, false), TimeSpan.FromSeconds(2));

        Assert.True(result.TimedOut);
        Assert.Null(result.ExitCode);
        Assert.Contains("handler timeout", result.Error);
        var child = File.ReadAllText(pidFile).Trim();
        await Eventually.True(() => !Directory.Exists($"/proc/{child}") || File.ReadAllText($"/proc/{child}/stat").Contains(") Z "),
            $"the handler's background child {child} to be killed");
    }

    [Fact]
    public async Task Handler_is_started_as_serf_starts_it_one_shell_leading_its_own_session()
    {
        // $$ is the /bin/sh the agent started; its parent must be the agent itself (no setsid or wrapper shell in
        // between), and it leads its own session, so a timeout can kill its group.
        var result = await Run("read -r pid _ _ ppid _ sid _ < /proc/$$/stat; tr '\\000' ' ' < /proc/$$/cmdline; echo; echo \"$pid $ppid $sid\"",
            new UserHandlerEvent("e", [], 1, false));

        var lines = Encoding.UTF8.GetString(result.Output).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("/bin/sh -c read -r pid", lines[0]);
        var ids = lines[1].Split(' ');
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), ids[1]);
        Assert.Equal(ids[0], ids[2]);
    }

    [Fact]
    public async Task Handler_gets_default_signal_handling_though_the_agent_ignores_sigpipe()
    {
        // SigIgn is a hex mask with bit (signal - 1): SIGPIPE (13) is 0x1000.
        var result = await Run("sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status", new UserHandlerEvent("e", [], 1, false));

        var ignored = Convert.ToUInt64(Encoding.UTF8.GetString(result.Output).Trim(), 16);
        Assert.Equal(0UL, ignored & 0x1000);
    }

    [Fact]
    public async Task Handler_killed_by_a_signal_reports_128_plus_the_signal()
    {
        var result = await Run("kill -TERM $$", new UserHandlerEvent("e", [], 1, false));
        Assert.Equal(143, result.ExitCode);
        Assert.Null(result.Error);
    }

    [Fact]
    public void A_program_that_cannot_be_started_is_a_clear_error_naming_it()
    {
        var error = Assert.Throws<SpawnException>(() => SessionProcess.Start("/nonexistent/sh", ["sh"], new Dictionary<string, string>()));
        Assert.Equal(2, error.NativeErrorCode);
        Assert.Equal("/nonexistent/sh: No such file or directory", error.Message);
    }
}
