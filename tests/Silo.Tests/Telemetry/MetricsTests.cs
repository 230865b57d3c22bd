using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Telemetry;

/// <summary>A real silo's <c>/metrics</c>, scraped as Prometheus would, and its JSON log lines.</summary>
public sealed partial class MetricsTests
{
    /// <summary>The silo's /metrics as sample name (with its interesting labels) → value; <paramref name="bearer"/>: the token to scrape with.</summary>
    internal static async Task<Dictionary<string, double>> ScrapeAsync(SiloProcess silo, string? bearer = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (bearer is not null) request.Headers.Authorization = new("Bearer", bearer);
        using var response = await silo.Http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.MediaType);
        var samples = new Dictionary<string, double>();
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#') continue;
            var m = Sample().Match(line);
            Assert.True(m.Success, $"not a Prometheus sample line: {line}");
            // Labels other than the interesting ones are dropped so the tests name samples simply.
            var labels = string.Join(",", LabelPair().Matches(m.Groups["labels"].Value)
                .Where(l => l.Groups[1].Value is "grain_type" or "method" or "status" or "http_route" or "http_request_method" or "reason" or "result" or "agents")
                .Select(l => $"{l.Groups[1].Value}={l.Groups[2].Value}"));
            var key = labels.Length == 0 ? m.Groups["name"].Value : $"{m.Groups["name"].Value}{{{labels}}}";
            samples[key] = samples.GetValueOrDefault(key) + double.Parse(m.Groups["value"].Value, CultureInfo.InvariantCulture);
        }
        return samples;
    }

    [Fact]
    public async Task Metrics_show_grain_calls_key_writes_watches_agents_and_http_requests_change_as_the_work_happens()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        var before = await ScrapeAsync(silo);
        Assert.Equal(1, before["platform_cluster_silos{status=active}"]);
        Assert.Equal(0, before["platform_agents_connected"]);
        Assert.Equal(1, before["platform_storage_reachable"]);
        Assert.Equal(0, before["platform_access_refused_total{reason=unauthenticated}"]);
        var executeBefore = before.GetValueOrDefault("platform_grain_calls_total{grain_type=keyspace,method=IKeyspaceGrain.Execute}");
        var indexBefore = before["platform_keys_index_total"];

        for (var i = 0; i < 3; i++)
            using (var put = await silo.Http.PutAsync($"/v2/keys/metrics/k{i}", new FormUrlEncodedContent([new("value", "v")])))
                put.EnsureSuccessStatusCode();
        var watch = silo.Http.GetAsync("/v2/keys/metrics/watched?wait=true");
        await using var agent = await RawAgent.ConnectAsync(silo.Port, RawAgent.NewHello("metrics-node"));

        var after = await PollAsync(silo, s => s.GetValueOrDefault("platform_keys_watches") == 1 && s.GetValueOrDefault("platform_agents_connected") == 1);
        Assert.True(after["platform_grain_calls_total{grain_type=keyspace,method=IKeyspaceGrain.Execute}"] >= executeBefore + 3);
        Assert.True(after["platform_keys_index_total"] >= indexBefore + 3);
        Assert.True(after["platform_grain_activations{grain_type=node}"] >= 1);
        // A plain listener: the agent's frames are written straight to its socket, not through Kestrel's stream.
        Assert.Equal(1, after["platform_agents_connected_direct"]);
        Assert.True(after.GetValueOrDefault("http_server_request_duration_seconds_count{http_request_method=PUT,http_route=/v2/keys/{**key}}") >= 3);

        using (var put = await silo.Http.PutAsync("/v2/keys/metrics/watched", new FormUrlEncodedContent([new("value", "v")])))
            put.EnsureSuccessStatusCode();
        (await watch).Dispose();
        await PollAsync(silo, s => s.GetValueOrDefault("platform_keys_watches") == 0);
    }

    [Fact]
    public async Task With_log_format_json_every_line_the_silo_logs_is_a_JSON_object_with_an_event_id()
    {
        using var dir = new TempDir();
        // At debug level, with some work done, so that more than the start and stop lines are logged.
        await using (var silo = await SiloProcess.StartAsync(dir.Path, null, "--log-format", "json", "--Logging:LogLevel:Default", "Debug"))
        {
            (await silo.Http.PutAsync("/v2/keys/logged?value=1", null)).EnsureSuccessStatusCode();
            Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(60)));
            var logLines = silo.Output.Split('\n').Where(l => l.StartsWith('{')).ToList();
            Assert.NotEmpty(logLines);
            var platformLines = 0;
            foreach (var line in logLines)
            {
                var entry = JsonDocument.Parse(line).RootElement;
                Assert.True(entry.TryGetProperty("EventId", out var eventId), line);
                Assert.True(entry.TryGetProperty("Category", out var category), line);
                Assert.True(entry.TryGetProperty("Timestamp", out _), line);
                // The silo's own lines carry an id of their own; ASP.NET Core's and the runtime libraries' are theirs to number.
                if (!category.GetString()!.StartsWith("Platform.", StringComparison.Ordinal)) continue;
                platformLines++;
                Assert.True(eventId.GetInt32() != 0, $"a line with EventId 0: {line}");
            }
            Assert.True(platformLines > 0, "no line of a Platform category was logged");
        }
    }

    [Fact]
    public async Task An_unknown_log_format_stops_the_start_naming_the_setting()
    {
        var (exitCode, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--log-format", "xml");
        Assert.Equal(2, exitCode);
        Assert.Contains("Platform:Telemetry:LogFormat (--log-format) is 'xml'; expected 'text' or 'json'.", stderr);
    }

    /// <summary>Scrapes until <paramref name="condition"/> holds (30 s at most); the exporter caches its answer briefly, so a change shows a little later.</summary>
    internal static async Task<Dictionary<string, double>> PollAsync(SiloProcess silo, Func<Dictionary<string, double>, bool> condition, string? bearer = null)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var samples = await ScrapeAsync(silo, bearer);
            if (condition(samples)) return samples;
            if (DateTime.UtcNow > deadline)
                Assert.Fail("the metrics did not reach the expected values within 30 s:\n" + string.Join("\n", samples.Where(s => s.Key.StartsWith("platform_", StringComparison.Ordinal)).Select(s => $"{s.Key} {s.Value}")));
            await Task.Delay(50);
        }
    }

    [GeneratedRegex(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>[-+0-9.eE]+|NaN|\+Inf|-Inf)( [0-9]+)?$")]
    private static partial Regex Sample();

    [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
    private static partial Regex LabelPair();
}
