using System.Text;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Telemetry;

/// <summary>Real silo processes exporting traces to an OTLP/HTTP receiver in the test, and one that is not told to.</summary>
public sealed class OtlpTraceTests
{
    /// <summary>Both silos are told by the OpenTelemetry variables where and how to export, and to export within 200 ms; only the Platform setting turns tracing on.</summary>
    private static Dictionary<string, string> OtelEnvironment(OtlpReceiver receiver) => new()
    {
        ["OTEL_EXPORTER_OTLP_ENDPOINT"] = receiver.Url,
        ["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf",
        ["OTEL_BSP_SCHEDULE_DELAY"] = "200",
    };

    [Fact]
    public async Task A_silo_given_an_OTLP_endpoint_posts_its_spans_as_protobuf_to_v1_traces_and_one_without_exports_nothing()
    {
        using var traced = new OtlpReceiver();
        using var untraced = new OtlpReceiver();
        using var tracedDir = new TempDir();
        using var untracedDir = new TempDir();
        await using var on = await SiloProcess.StartAsync(tracedDir.Path, null, OtelEnvironment(traced),
            "--Platform:Telemetry:OtlpEndpoint", traced.Url, "--Platform:Telemetry:OtlpProtocol", "http/protobuf");
        await using var off = await SiloProcess.StartAsync(untracedDir.Path, null, OtelEnvironment(untraced));

        foreach (var silo in new[] { on, off })
        {
            (await silo.Http.PutAsync("/v2/keys/traced?value=1", null)).EnsureSuccessStatusCode();
            (await silo.Http.GetAsync("/v2/keys/traced")).EnsureSuccessStatusCode();
        }

        Assert.True(
            await traced.WaitUntilAsync(r => r.Any(p => Encoding.UTF8.GetString(p.Body).Contains("/v2/keys", StringComparison.Ordinal)), TimeSpan.FromSeconds(60)),
            $"no span of the key requests reached the receiver; received {traced.Requests.Count} requests:\n{on.Output}");
        foreach (var post in traced.Requests)
        {
            Assert.Equal(("POST", "/v1/traces"), (post.Method, post.Path));
            Assert.Equal("application/x-protobuf", post.ContentType);
            Assert.NotEmpty(post.Body);
            // Strings are stored as they are in protobuf: the resource names the service.
            Assert.Contains("platform-silo", Encoding.UTF8.GetString(post.Body), StringComparison.Ordinal);
        }

        // A stopped silo flushes what it has; after that it can send nothing more.
        Assert.Equal(0, await off.TerminateAsync(TimeSpan.FromSeconds(60)));
        Assert.Empty(untraced.Requests);
    }

    [Fact]
    public async Task An_OTLP_protocol_that_is_not_known_stops_the_start_naming_the_setting()
    {
        var (exitCode, stderr, _) = await SiloProcess.RunExpectingFailureAsync(
            "--Platform:Telemetry:OtlpEndpoint", "http://127.0.0.1:4318", "--Platform:Telemetry:OtlpProtocol", "thrift");
        Assert.Equal(2, exitCode);
        Assert.Contains("Platform:Telemetry:OtlpProtocol is 'thrift'; expected 'grpc' or 'http/protobuf'.", stderr);
    }
}
