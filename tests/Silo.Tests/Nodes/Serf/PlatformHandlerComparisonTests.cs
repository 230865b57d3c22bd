using Xunit.Abstractions;
using Xunit.Sdk;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>
/// The compatibility test with the real thing: the same scenario on real serf agents and on a silo with real
/// <c>platform agent</c> processes, run at the same time; what the handlers saw must be the same once normalised
/// (<see cref="ScenarioTranscript"/>), query output included.
/// </summary>
public sealed class PlatformHandlerComparisonTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Platform_agents_run_handlers_with_what_serf_agents_give_them()
    {
        await using var serf = new SerfFleet();
        await using var platform = await PlatformFleet.StartAsync();
        var runs = await Task.WhenAll(HandlerScenario.RunAsync(serf), HandlerScenario.RunAsync(platform));
        var serfTranscript = ScenarioTranscript.Render(runs[0]);
        var platformTranscript = ScenarioTranscript.Render(runs[1]);
        foreach (var line in platformTranscript) output.WriteLine(line);

        if (runs[0].Any(r => r.Failure is not null))
            throw new XunitException($"the serf half did not run through, so there is nothing to compare with:\n{string.Join('\n', serfTranscript)}\n{serf.Diagnostics()}");
        var diff = LineDiff.Unified(serfTranscript, platformTranscript, "serf", "platform");
        if (diff is not null)
            throw new XunitException($"Platform's handlers saw something else than Serf's:\n{diff}\n{platform.Diagnostics()}");
    }
}
