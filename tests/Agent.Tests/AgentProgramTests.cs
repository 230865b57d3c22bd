using Platform.Agent.Tests.Support;
using Platform.Protocol;

namespace Platform.Agent.Tests;

public sealed class AgentProgramTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Theory]
    [InlineData("-nodes x")]
    [InlineData("-node x")]
    [InlineData("-server http://127.0.0.1:1 -event-handler member-joined=x.sh")]
    [InlineData("-config-file /nonexistent/agent.json -server http://127.0.0.1:1")]
    public async Task Bad_flags_or_configuration_exit_with_the_config_error_code(string args)
        => Assert.Equal(AgentExitCodes.ConfigError, await AgentProgram.RunAsync(args.Split(' '), CancellationToken.None));

    [Fact]
    public async Task Help_exits_0()
        => Assert.Equal(AgentExitCodes.Ok, await AgentProgram.RunAsync(["-help"], CancellationToken.None));

    [Fact]
    public async Task A_refused_agent_exits_with_the_refused_code_after_one_attempt()
    {
        await using var silo = await FakeSilo.StartAsync();
        silo.OnHello = hello => new RefusedFrame($"node '{hello.Name}' is alive with another agent");

        var code = await AgentProgram.RunAsync(
            ["-server", silo.Url.ToString(), "-node", "dup", "-data-dir", _dir.Path, "-log-level", "err"], CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(20));

        Assert.Equal(AgentExitCodes.Refused, code);
        Assert.Equal(1, silo.Connections);
    }

    [Fact]
    public async Task Stopping_leaves_gracefully_and_exits_0()
    {
        await using var silo = await FakeSilo.StartAsync();
        using var stop = new CancellationTokenSource();
        var run = AgentProgram.RunAsync(["-server", silo.Url.ToString(), "-node", "n1", "-data-dir", _dir.Path, "-log-level=err"], stop.Token);
        await Eventually.True(() => silo.IsConnected, "the agent's connection");

        await stop.CancelAsync();

        Assert.Equal(AgentExitCodes.Ok, await run.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Single(silo.ReceivedOf<LeaveFrame>());
    }

    [Fact]
    public async Task A_data_dir_that_cannot_be_made_exits_with_the_error_code()
    {
        var file = _dir.File("not-a-dir", "x");
        var code = await AgentProgram.RunAsync(["-server", "http://127.0.0.1:1", "-data-dir", Path.Combine(file, "sub"), "-log-level", "err"], CancellationToken.None)
            .WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(AgentExitCodes.Error, code);
    }
}
