using Microsoft.Extensions.DependencyInjection;
using Platform.Runtime.Filters;
using Platform.Runtime.Statistics;
using Platform.Runtime.Storage;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Runtime;

public sealed class StatisticsAndFilterTests
{
    private sealed class RecordingFilter : IIncomingGrainCallFilter
    {
        public readonly List<string> Calls = [];

        public async Task Invoke(IIncomingGrainCallContext context)
        {
            lock (Calls) Calls.Add($"{context.GrainId} {context.Method.MethodName}({string.Join(",", context.Arguments)})");
            await context.Invoke();
            if (context.Method.MethodName == "Echo") context.Result = "filtered:" + context.Result;
        }
    }

    [Fact]
    public async Task Call_filter_sees_each_call_and_can_replace_its_result()
    {
        var filter = new RecordingFilter();
        await using var silo = await TestSilo.StartAsync(configure: s => s.AddSingleton<IIncomingGrainCallFilter>(filter).AddMemoryGrainStorage().AddMemoryReminderTable());
        var grain = silo.Factory.GetGrain<ISlowGrain>("filtered");
        Assert.Equal("filtered:hi", await grain.Echo("hi"));
        Assert.Contains("slow/filtered Echo(hi)", filter.Calls);
    }

    [Fact]
    public async Task Statistics_count_activations_calls_failures_and_latency_per_grain_type_and_method()
    {
        await using var silo = await TestSilo.StartAsync();
        var stats = silo.Services.GetRequiredService<IRuntimeStatistics>();
        long Before(string type, string method) => stats.GetGrainStatistics().Single(t => t.GrainType == type).Methods.Single(m => m.Method == method).Calls;
        // A method's counters are kept per method for the whole process; only this test calls these.
        var echoBefore = Before("counted", "Echo");
        var throwBefore = Before("counted", "Throw");

        for (var i = 0; i < 3; i++) await silo.Factory.GetGrain<ICountedGrain>($"stats-{i}").Echo("x");
        await Assert.ThrowsAsync<InvalidOperationException>(() => silo.Factory.GetGrain<ICountedGrain>("stats").Throw("x"));

        var counted = stats.GetGrainStatistics().Single(t => t.GrainType == "counted");
        Assert.Equal(4, counted.Activations);
        var echo = counted.Methods.Single(m => m.Method == "Echo");
        Assert.Equal(echoBefore + 3, echo.Calls);
        Assert.Equal(0, echo.Failures);
        Assert.True(echo.P50Micros > 0);
        var thrown = counted.Methods.Single(m => m.Method == "Throw");
        Assert.Equal(throwBefore + 1, thrown.Calls);
        Assert.Equal(1, thrown.Failures);
    }
}
