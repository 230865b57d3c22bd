using System.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using Platform.Agent.Connection;
using Platform.Agent.Tests.Support;
using Platform.Protocol;
using Xunit.Abstractions;

namespace Platform.Agent.Tests.Connection;

public sealed class ManyConnectionsTests(ITestOutputHelper output)
{
    private sealed class SimulatedAgent(int i) : IAgentSession
    {
        public HelloFrame CreateHello() => new($"sim-{i}", "127.0.0.1", 7946, new Dictionary<string, string>(), Guid.NewGuid().ToString("N"), 5, 0);
        public ValueTask OnWelcomeAsync(WelcomeFrame welcome, CancellationToken cancellationToken) => ValueTask.CompletedTask;
        public ValueTask OnFrameAsync(AgentFrame frame, CancellationToken cancellationToken) => ValueTask.CompletedTask;
    }

    [Fact]
    public async Task Hundreds_of_connections_in_one_process_do_not_take_a_thread_each()
    {
        const int count = 300;
        await using var silo = await FakeSilo.StartAsync();
        var threadsBefore = Process.GetCurrentProcess().Threads.Count;
        var memoryBefore = GC.GetTotalMemory(forceFullCollection: true);
        using var stop = new CancellationTokenSource();
        var connections = Enumerable.Range(0, count)
            .Select(i => new AgentConnection(new AgentConnectionOptions { Servers = [silo.Url], ConnectTimeout = TimeSpan.FromSeconds(30) }, new SimulatedAgent(i), NullLogger.Instance))
            .ToList();
        var running = connections.Select(c => c.RunAsync(stop.Token)).ToList();

        await Eventually.True(() => connections.All(c => c.IsConnected), $"{count} welcomed connections", TimeSpan.FromSeconds(60));
        var threadsAfter = Process.GetCurrentProcess().Threads.Count;
        var memoryAfter = GC.GetTotalMemory(forceFullCollection: true);
        output.WriteLine($"{count} connections: {threadsAfter - threadsBefore} more threads, {(memoryAfter - memoryBefore) / count / 1024.0:0.0} KB managed heap each (agent and in-process silo sides together)");

        Assert.True(threadsAfter - threadsBefore < count / 4, $"{threadsAfter - threadsBefore} threads more for {count} connections");
        await stop.CancelAsync();
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(30));
    }
}
