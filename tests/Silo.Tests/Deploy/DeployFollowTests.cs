using System.Text.Json;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// <c>GET /v1/deploys/{id}?follow=true</c> and <c>GET /v1/deploys?follow=true</c> against a real silo and real agents: every
/// node's change arrives as a line while the deploy runs, the stream ends with the deploy, and the history stream shows it.
/// </summary>
public sealed class DeployFollowTests(ITestOutputHelper output) : DeploySiloTest
{
    /// <summary>pre.sh that waits until the test lets the node go on (a file named go in its folder).</summary>
    public const string Gate = "echo waiting for the gate\nwhile [ ! -f \"$NODE_DIR/go\" ]; do sleep 0.1; done\necho gate passed\n";

    [Fact]
    public async Task A_followed_deploy_streams_each_node_change_and_ends_with_the_deploy_and_the_history_stream_shows_it()
    {
        await Fleet.StartAgentsAsync(TestSilo.Http, [Gate, Gate]);
        var n = Fleet.Names.Order(StringComparer.Ordinal).ToArray();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var ct = deadline.Token;

        await using var history = await NdjsonStream.OpenAsync(TestSilo.Http, $"/v1/deploys?follow=true&target={Fleet.Prefix}", ct);

        var (status, body) = await DeployFleet.PostAsync(TestSilo.Http, new
        {
            manifest_url = Fleet.ManifestUrl,
            target = new { tags = new Dictionary<string, string> { ["fleet"] = $"^{Fleet.Prefix}$" } },
            strategy = new { batch = 1, node_timeout = "5m" },
        });
        Assert.True(status == 201, body.ToString());
        var id = body.GetProperty("id").GetString()!;

        await using var follow = await NdjsonStream.OpenAsync(TestSilo.Http, $"/v1/deploys/{id}?follow=true", ct);
        Assert.Equal("application/x-ndjson", follow.ContentType);
        var first = await follow.NextAsync(ct);
        Assert.Equal(id, first!.Value.GetProperty("id").GetString());
        Assert.Equal("running", first.Value.GetProperty("status").GetString());
        Assert.Equal("pending", DeployFleet.NodeStatuses(first.Value)[n[1]]);

        // The first node ends: a line says so, and that the second one runs (batch 2).
        File.WriteAllText(Path.Combine(Fleet.NodeDir(n[0]), "go"), "");
        var seen = await follow.UntilAsync(d => DeployFleet.NodeStatuses(d)[n[0]] == "succeeded" && DeployFleet.NodeStatuses(d)[n[1]] == "running", ct);
        Assert.Equal(2, seen.GetProperty("batch").GetInt32());

        File.WriteAllText(Path.Combine(Fleet.NodeDir(n[1]), "go"), "");
        var last = await follow.UntilAsync(d => d.GetProperty("status").GetString() != "running", ct);
        output.WriteLine(last.ToString());
        Assert.Equal("succeeded", last.GetProperty("status").GetString());
        Assert.All(DeployFleet.NodeStatuses(last).Values, s => Assert.Equal("succeeded", s));
        // The stream ends with the deploy.
        Assert.Null(await follow.NextAsync(ct));
        Assert.True(follow.Lines >= 3, $"expected a line per change, got {follow.Lines}");

        var summary = await history.UntilAsync(s => s.GetProperty("id").GetString() == id && s.GetProperty("status").GetString() == "succeeded", ct);
        Assert.Equal(2, summary.GetProperty("counts").GetProperty("succeeded").GetInt32());

        // A deploy that is over answers its one line and ends at once.
        await using var again = await NdjsonStream.OpenAsync(TestSilo.Http, $"/v1/deploys/{id}?follow=true", ct);
        Assert.Equal("succeeded", (await again.NextAsync(ct))!.Value.GetProperty("status").GetString());
        Assert.Null(await again.NextAsync(ct));
    }

    [Fact]
    public async Task Follow_refuses_a_value_that_is_not_true_or_false_and_an_unknown_deploy()
    {
        using var bad = await TestSilo.Http.GetAsync("/v1/deploys?follow=yes");
        Assert.Equal(400, (int)bad.StatusCode);
        Assert.Equal("follow 'yes': expected true or false", JsonDocument.Parse(await bad.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
        using var unknown = await TestSilo.Http.GetAsync("/v1/deploys/nope?follow=true");
        Assert.Equal(404, (int)unknown.StatusCode);
        Assert.Equal("deploy 'nope' not found", JsonDocument.Parse(await unknown.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetString());
    }
}

/// <summary>An NDJSON answer read line by line.</summary>
internal sealed class NdjsonStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;

    private NdjsonStream(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    public string? ContentType => _response.Content.Headers.ContentType?.MediaType;

    /// <summary>Lines read so far.</summary>
    public int Lines { get; private set; }

    public static async Task<NdjsonStream> OpenAsync(HttpClient http, string path, CancellationToken ct)
    {
        var response = await http.GetAsync(path, HttpCompletionOption.ResponseHeadersRead, ct);
        if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        return new NdjsonStream(response, new StreamReader(await response.Content.ReadAsStreamAsync(ct)));
    }

    /// <summary>The next line as JSON; null when the stream ended.</summary>
    public async Task<JsonElement?> NextAsync(CancellationToken ct)
    {
        var line = await _reader.ReadLineAsync(ct);
        if (line is null) return null;
        Lines++;
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    /// <summary>Reads lines until one satisfies <paramref name="condition"/>; fails if the stream ends first.</summary>
    public async Task<JsonElement> UntilAsync(Func<JsonElement, bool> condition, CancellationToken ct)
    {
        while (true)
        {
            var next = await NextAsync(ct) ?? throw new InvalidOperationException("the stream ended before the awaited line");
            if (condition(next)) return next;
        }
    }

    public ValueTask DisposeAsync()
    {
        _reader.Dispose();
        _response.Dispose();
        return ValueTask.CompletedTask;
    }
}
