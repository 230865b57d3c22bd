using System.Collections.Concurrent;
using System.Diagnostics;
using Platform.Runtime.Tests.Grains;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Cluster;

public sealed class TracingTests
{
    [Fact]
    public async Task A_grain_call_to_another_silo_runs_in_a_span_whose_parent_is_the_callers_activity()
    {
        const string HttpSource = "Platform.Runtime.Tests.Http";
        var spans = new ConcurrentQueue<Activity>();
        using var http = new ActivitySource(HttpSource);
        using var listener = new ActivityListener
        {
            ShouldListenTo = s => s.Name is RuntimeActivitySource.Name or HttpSource,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = a =>
            {
                if (a.Source.Name == RuntimeActivitySource.Name && a.DisplayName.EndsWith("ITraceGrain/CurrentTraceId", StringComparison.Ordinal)) spans.Enqueue(a);
            },
        };
        ActivitySource.AddActivityListener(listener);
        await using var cluster = await TestCluster.StartAsync(2);
        var key = Enumerable.Range(0, 100).Select(i => $"trace-{i}")
            .First(k => cluster.Silos[0].Cluster.Placement.OwnerOf(new GrainId("trace", k)) == cluster.Silos[1].Cluster.Self);
        var grain = cluster.Silos[0].Factory.GetGrain<ITraceGrain>(key);

        string seenByGrain;
        ActivityTraceId traceId;
        ActivitySpanId requestSpan;
        using (var request = http.StartActivity("GET /v1/example", ActivityKind.Server))
        {
            Assert.NotNull(request);
            traceId = request.TraceId;
            requestSpan = request.SpanId;
            seenByGrain = await grain.CurrentTraceId();
        }

        await TestCluster.WaitUntilAsync(() => !spans.IsEmpty, TimeSpan.FromSeconds(10), "the grain call's span on the other silo");
        var span = Assert.Single(spans);
        Assert.Equal(traceId, span.TraceId);
        Assert.Equal(requestSpan, span.ParentSpanId);
        Assert.True(span.HasRemoteParent);
        Assert.Equal(ActivityKind.Server, span.Kind);
        Assert.Equal($"trace/{key}", span.GetTagItem("platform.grain"));
        Assert.Equal(traceId.ToHexString(), seenByGrain);
        Assert.True(cluster.Silos[1].Runtime.Catalog.TryGet(new GrainId("trace", key), out _), "the grain ran on the other silo");

        // A call made with no activity current carries no trace context, and no span is started for it.
        spans.Clear();
        Assert.Equal("", await grain.CurrentTraceId());
        Assert.Empty(spans);
    }
}
