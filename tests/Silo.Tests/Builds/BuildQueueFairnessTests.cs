using Platform.Silo.Tests.Nodes.Api;
using static Platform.Silo.Tests.Builds.BuildsHttp;

namespace Platform.Silo.Tests.Builds;

/// <summary>
/// The queue's turns through the real queue grain, on a silo of its own (no other test's jobs wait in its queue): with
/// one slot, repositories take turns, so a repository that pushed once is not stuck behind one that pushed three times.
/// </summary>
public sealed class BuildQueueFairnessTests(BuildsSilo fixture) : IClassFixture<BuildsSilo>
{
    private const string Secret = "fair-hook";

    [Fact]
    public async Task Repositories_take_turns_for_one_slot_whatever_order_their_jobs_came_in()
    {
        const string a = "team/fair-a", b = "team/fair-b";
        await RegisterAsync(fixture.Http, a, Secret);
        await RegisterAsync(fixture.Http, b, Secret);
        await using var agent = await SimulatedBuildAgent.ConnectAsync(fixture.Port, "fair-agent", slots: 1);

        // The one slot is taken by a job of a; then three builds of a and one of b wait, b's last.
        var holding = await PushAsync(fixture.Http, a, "hold", Secret);
        var hold = await agent.PipelineJobAsync(holding);
        await agent.StartedAsync(hold);
        string[] waiting =
        [
            await PushAsync(fixture.Http, a, "x", Secret),
            await PushAsync(fixture.Http, a, "y", Secret),
            await PushAsync(fixture.Http, a, "z", Secret),
            await PushAsync(fixture.Http, b, "main", Secret),
        ];
        await UntilQueuedAsync(waiting);

        // Each job ends at once (a pipeline that cannot be read), freeing the slot for the next.
        await agent.AnswerPipelineAsync(hold, null, "no pipeline here");
        var order = new List<string>();
        for (var i = 0; i < waiting.Length; i++)
        {
            var next = await agent.JobAsync(f => waiting.Contains(f.BuildId) && !order.Contains(f.BuildId));
            order.Add(next.BuildId);
            await agent.AnswerPipelineAsync(next, null, "no pipeline here");
        }
        // a was served last (the holding job): b's turn comes first, then a's builds, oldest first.
        Assert.Equal([waiting[3], waiting[0], waiting[1], waiting[2]], order);
    }

    private async Task UntilQueuedAsync(string[] builds)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var queue = await fixture.Http.GetStringAsync("/v1/queue");
            if (builds.All(id => queue.Contains(id, StringComparison.Ordinal))) return;
            if (clock.Elapsed > TimeSpan.FromSeconds(30)) throw new TimeoutException($"not all of {string.Join(", ", builds)} waiting within 30 s: {queue}");
            await Task.Delay(50);
        }
    }
}
