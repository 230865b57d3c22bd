using Xunit.Abstractions;
using Xunit.Sdk;

namespace Platform.Silo.Tests.Nodes.Serf;

/// <summary>The harness against real serf agents: what Serf's handlers see, as the comparison with Platform relies on it.</summary>
public sealed class SerfHandlerTests(ITestOutputHelper output)
{
    [Fact]
    public async Task Serf_handlers_see_joins_tag_changes_events_queries_leaves_and_failures()
    {
        await using var serf = new SerfFleet();
        var records = await HandlerScenario.RunAsync(serf);
        var transcript = ScenarioTranscript.Render(records);
        foreach (var line in transcript) output.WriteLine(line);
        var diff = LineDiff.Unified(SerfTranscript.Expected, transcript, "expected", "serf");
        if (diff is not null) throw new XunitException($"serf's handlers did not see what the scenario expects:\n{diff}\n{serf.Diagnostics()}");
    }
}
