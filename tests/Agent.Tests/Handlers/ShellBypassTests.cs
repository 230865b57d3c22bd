using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Agent.Handlers;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests.Handlers;

public sealed class ShellBypassTests
{
    private static readonly HandlerProcess Process = new(TimeProvider.System, NullLogger.Instance);

    private static async Task<(string Output, int? ExitCode)> Run(string script)
    {
        var result = await Process.RunAsync(new EventScript("*", "", script), new UserHandlerEvent("deploy", Encoding.UTF8.GetBytes("v1"), 4, false),
            "web-1", new Dictionary<string, string> { ["role"] = "web" }, TimeSpan.FromSeconds(30), CancellationToken.None);
        return (Encoding.UTF8.GetString(result.Output), result.ExitCode);
    }

    private static string Sorted(string lines) => string.Join('\n', lines.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal));

    [Theory]
    [InlineData("/etc/serf/handlers/deploy.sh", true)]
    [InlineData("./handlers/a_b-c+d,e:f@g%h.py", true)]
    [InlineData("deploy.sh", false)]
    [InlineData("/a/deploy.sh arg", false)]
    [InlineData("/a/b;reboot", false)]
    [InlineData("~/deploy.sh", false)]
    [InlineData("/a/$HOME", false)]
    [InlineData("FOO=/a/b", false)]
    [InlineData("/a/*.sh", false)]
    [InlineData("/a/b>/tmp/x", false)]
    [InlineData("/a/'b'", false)]
    [InlineData("/a/b\n", false)]
    [InlineData("", false)]
    public void Only_a_lone_path_the_shell_takes_literally_is_bypassed(string script, bool bypassed)
        => Assert.Equal(bypassed ? script : null, ShellBypass.PlainPath(script));

    [Fact]
    public void The_environment_is_the_one_dash_passes_on()
    {
        var cwd = Directory.GetCurrentDirectory();
        var passed = ShellBypass.Environment(new Dictionary<string, string> { ["A-B"] = "1", ["C.D"] = "2", ["_E9"] = "3", ["9F"] = "4", ["PWD"] = "relative" });
        Assert.Equal(new Dictionary<string, string> { ["_E9"] = "3", ["PWD"] = cwd }, passed);

        Assert.Equal(cwd, ShellBypass.Environment(new Dictionary<string, string>())["PWD"]);
        Assert.Equal(cwd, ShellBypass.Environment(new Dictionary<string, string> { ["PWD"] = "/nonexistent-dir" })["PWD"]);
        Assert.Equal(cwd + "/.", ShellBypass.Environment(new Dictionary<string, string> { ["PWD"] = cwd + "/." })["PWD"]);
    }

    [Fact]
    public async Task A_bypassed_handler_sees_exactly_the_environment_a_shell_would_have_given_it()
    {
        Assert.Equal("/usr/bin/env", ShellBypass.Program("/usr/bin/env"));
        // Names that are no shell names reach the agent, not a handler started through dash.
        Environment.SetEnvironmentVariable("PLATFORM-TEST.BYPASS", "1");

        var (direct, directExit) = await Run("/usr/bin/env");
        var (shell, shellExit) = await Run("exec /usr/bin/env");

        Assert.Equal(0, directExit);
        Assert.Equal(0, shellExit);
        Assert.Contains("SERF_EVENT=user", direct);
        Assert.DoesNotContain("PLATFORM-TEST.BYPASS", shell);
        Assert.Equal(Sorted(shell), Sorted(direct));
    }

    [Fact]
    public async Task A_bypassed_handler_is_the_process_serf_would_have_started()
    {
        using var dir = new TempDir();
        var script = dir.File("show.sh", "#!/bin/sh\nread -r pid _ _ ppid _ sid _ < /proc/$$/stat\ntr '\\000' ' ' < /proc/$$/cmdline; echo\necho \"$pid $ppid $sid\"\ncat\n");
        File.SetUnixFileMode(script, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var (output, exit) = await Run(script);

        Assert.Equal(0, exit);
        var lines = output.Split('\n');
        Assert.Equal($"/bin/sh {script} ", lines[0]);
        var ids = lines[1].Split(' ');
        Assert.Equal(Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture), ids[1]);
        Assert.Equal(ids[0], ids[2]);
        Assert.Equal("v1", lines[2]);
    }

    [Fact]
    public async Task A_path_the_exec_refuses_goes_to_the_shell_as_under_serf()
    {
        using var dir = new TempDir();
        // No #! line: execve fails with ENOEXEC and the shell runs the file as a script.
        var plain = dir.File("plain", "echo \"plain $SERF_EVENT $SERF_USER_EVENT\"\n");
        File.SetUnixFileMode(plain, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var notExecutable = dir.File("not-executable", "#!/bin/sh\necho never\n");

        Assert.Equal(("plain user deploy\n", 0), await Run(plain));

        var (missing, missingExit) = await Run(dir.File("missing"));
        Assert.Equal(127, missingExit);
        Assert.Equal($"/bin/sh: 1: {dir.File("missing")}: not found\n", missing);

        var (denied, deniedExit) = await Run(notExecutable);
        Assert.Equal(126, deniedExit);
        Assert.Equal($"/bin/sh: 1: {notExecutable}: Permission denied\n", denied);
    }
}
