using System.Text.Json;

namespace Platform.Cli.Tests;

/// <summary>
/// The runtime settings the built <c>platform</c> starts with (its runtimeconfig.json, which the .NET host reads before
/// any code runs): many agents share a machine, so each must idle cheaply. With PGO, pool spinning and the background
/// GC thread, 10 freshly started agents spent ≈ 300 ms of CPU a second for their first tens of seconds; without, ≈ 70.
/// </summary>
public sealed class AgentRuntimeConfigTests
{
    private static JsonElement ConfigProperties()
    {
        var path = Path.Combine(AppContext.BaseDirectory, "platform.runtimeconfig.json");
        Assert.True(File.Exists(path), $"{path} is missing: the CLI's build output is not next to the tests");
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        return json.RootElement.GetProperty("runtimeOptions").GetProperty("configProperties").Clone();
    }

    [Fact]
    public void Agent_runs_workstation_gc_without_the_background_gc_thread()
    {
        var properties = ConfigProperties();
        Assert.False(properties.GetProperty("System.GC.Server").GetBoolean());
        Assert.False(properties.GetProperty("System.GC.Concurrent").GetBoolean());
    }

    [Fact]
    public void Agent_does_not_instrument_for_pgo()
    {
        Assert.False(ConfigProperties().GetProperty("System.Runtime.TieredPGO").GetBoolean());
    }

    [Fact]
    public void Agent_pool_threads_do_not_spin_for_work()
    {
        Assert.Equal(0, ConfigProperties().GetProperty("System.Threading.ThreadPool.UnfairSemaphoreSpinLimit").GetInt32());
    }
}
