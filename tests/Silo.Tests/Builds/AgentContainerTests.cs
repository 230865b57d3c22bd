using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Builds.Tests.Support;
using Platform.Silo.Tests.Nodes.AgentApi;
using Platform.Silo.Tests.Support;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// Steps with an <c>image</c> through a real silo and real agents with the real podman (a busybox image imported
/// locally): the job goes to the agent that has an engine, runs in a container with the checkout, and its container does
/// not outlive a <c>kill -9</c> of its agent.
/// </summary>
public sealed partial class AgentContainerTests : IAsyncLifetime
{
    private readonly TempDir _work = new();
    private AgentProcessFleet _fleet = null!;
    private readonly List<string> _containers = [];

    public async Task InitializeAsync()
    {
        if (BusyboxImage.Unavailable is null) await BusyboxImage.EnsureAsync();
        _fleet = await AgentProcessFleet.StartAsync("--Platform:Builds:BuildCheckInterval", "00:00:01");
    }

    public async Task DisposeAsync()
    {
        foreach (var name in _containers)
            if (BusyboxImage.ContainerExists(name)) await BusyboxImage.RunAsync(BusyboxImage.Podman!, "rm", "--force", "--time", "0", name);
        if (_fleet is not null) await _fleet.DisposeAsync();
        _work.Dispose();
    }

    private Task<Nodes.Serf.NodeProcess> StartAgentAsync(string name, string engine)
        => _fleet.StartAgentAsync(name, new() { ["build_slots"] = 1, ["build_engine"] = engine }, BusyboxImage.EngineEnvironment);

    [PodmanFact]
    public async Task A_step_with_an_image_runs_in_a_container_on_the_agent_with_an_engine()
    {
        // The agent without an engine starts first: the job must not go to it.
        await StartAgentAsync("plain-" + _fleet.Suffix, "none");
        var podman = "podman-" + _fleet.Suffix;
        await StartAgentAsync(podman, BusyboxImage.Podman!);
        var id = await StartAsync("team/boxed", """
            #!/bin/sh
            echo "in $(pwd) as $(id -u) on $(uname -n) key=$PLATFORM_STEP_KEY"
            test -f /bin/busybox && echo "busybox image"
            """);

        var build = await WaitForBuildAsync(_fleet.Http, id, b => b.GetProperty("state").GetString() is "passed" or "failed", "its end", TimeSpan.FromSeconds(90));
        var log = await LogAsync(_fleet.Http, id, "box");
        Assert.True(build.GetProperty("state").GetString() == "passed", $"build {build}\nlog:\n{log}\n{_fleet.Diagnostics()}");
        Assert.Equal(podman, Job(build, "box").GetProperty("agent").GetString());
        Assert.Contains("in /workspace as 0", log);
        Assert.Contains("key=box", log);
        Assert.Contains("busybox image", log);
        var name = ContainerName(log);
        // podman run --rm: the container is gone with its step.
        await _fleet.UntilAsync(() => !BusyboxImage.ContainerExists(name), $"container {name} removed after its step");
    }

    [PodmanFact]
    public async Task The_container_of_a_step_whose_agent_is_killed_with_sigkill_is_removed()
    {
        var agent = await StartAgentAsync("doomed-" + _fleet.Suffix, BusyboxImage.Podman!);
        var id = await StartAsync("team/orphan", """
            #!/bin/sh
            echo "container up"
            sleep 300
            """);
        await _fleet.UntilAsync(async () => (await BuildAsync(_fleet.Http, id)).GetProperty("jobs").EnumerateArray().Any(j => j.GetProperty("key").GetString() == "box" && j.GetProperty("state").GetString() == "running")
            && (await LogAsync(_fleet.Http, id, "box")).Contains("container up", StringComparison.Ordinal), "the step running in its container");
        var name = ContainerName(await LogAsync(_fleet.Http, id, "box"));
        Assert.True(BusyboxImage.ContainerExists(name), $"container {name} runs before the kill");

        await agent.KillAsync();
        // The container runs under podman's monitor, outside the step's process group: the step's guard removes it.
        await _fleet.UntilAsync(() => !BusyboxImage.ContainerExists(name), $"container {name} removed after its agent was killed");
    }

    /// <summary>Registers <paramref name="repo"/> with one step, <c>box</c>, running <paramref name="script"/> in the busybox image, and starts a build.</summary>
    private async Task<string> StartAsync(string repo, string script)
    {
        var (url, commit) = BareRepository.Create(_work.Path, repo.Replace('/', '-'), $"""
            steps:
              - key: box
                run: scripts/box.sh
                image: {BusyboxImage.Name}
                network: none
                timeout: 10m
            """, new Dictionary<string, string> { ["scripts/box.sh"] = script });
        return await StartBuildAsync(_fleet.Http, repo, url, commit);
    }

    /// <summary>The container's name, as the agent's runner logs it; kept so that the test's end removes it should the test fail.</summary>
    private string ContainerName(string log)
    {
        var match = ContainerLine().Match(log);
        Assert.True(match.Success, $"no 'container NAME' line in the log:\n{log}");
        _containers.Add(match.Groups[1].Value);
        return match.Groups[1].Value;
    }

    [GeneratedRegex(@"\(podman, container (platform-job-[^)\s]+)\)")]
    private static partial Regex ContainerLine();
}
