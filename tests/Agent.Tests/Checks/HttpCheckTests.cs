using Microsoft.AspNetCore.Http;
using Platform.Agent.Checks;

namespace Platform.Agent.Tests.Checks;

public sealed class HttpCheckTests
{
    private static async Task<Protocol.CheckState> FirstState(string url, string extra = "", ManualClock? clock = null)
    {
        await using var recorder = new CheckRecorder($$"""[{"name": "web", "http": "{{url}}", "interval": "10s"{{extra}}}]""", clock ?? new ManualClock());
        recorder.Set.Start();
        return await recorder.NextChange();
    }

    private static Task<TestHttpServer> Answering(int status, string body)
        => TestHttpServer.StartAsync(async context =>
        {
            context.Response.StatusCode = status;
            await context.Response.WriteAsync(body);
        });

    [Fact]
    public async Task Response_2xx_is_passing_with_Consul_output()
    {
        await using var server = await Answering(200, "ok");
        var state = await FirstState(server.Url + "/health");
        Assert.Equal((CheckStatus.Passing, $"HTTP GET {server.Url}/health: 200 OK Output: ok"), (state.Status, state.Output));
    }

    [Fact]
    public async Task Response_204_is_passing()
    {
        await using var server = await Answering(204, "");
        Assert.Equal(CheckStatus.Passing, (await FirstState(server.Url + "/")).Status);
    }

    [Fact]
    public async Task Response_429_is_warning()
    {
        await using var server = await Answering(429, "slow down");
        var state = await FirstState(server.Url + "/health");
        Assert.Equal((CheckStatus.Warning, $"HTTP GET {server.Url}/health: 429 Too Many Requests Output: slow down"), (state.Status, state.Output));
    }

    [Theory]
    [InlineData(503, "503 Service Unavailable")]
    [InlineData(404, "404 Not Found")]
    [InlineData(301, "301 Moved Permanently")]
    public async Task Any_other_response_is_critical(int code, string status)
    {
        await using var server = await Answering(code, "no");
        var state = await FirstState(server.Url + "/health", """, "status": "passing" """);
        Assert.Equal((CheckStatus.Critical, $"HTTP GET {server.Url}/health: {status} Output: no"), (state.Status, state.Output));
    }

    [Fact]
    public async Task Request_carries_the_method_headers_body_and_Consul_user_agent()
    {
        await using var server = await Answering(200, "");
        await FirstState(server.Url + "/hook", """, "method": "PUT", "header": {"X-Token": ["t1", "t2"]}, "body": "{\"ping\":1}" """);

        var request = server.LastRequest!;
        Assert.Equal("PUT", request.Method);
        // HttpClient folds a header's values into one line (RFC 9110 5.3); Go writes one line per value.
        Assert.Equal("t1, t2", string.Join(", ", request.Headers["X-Token"]));
        Assert.Equal("Consul Health Check", Assert.Single(request.Headers["User-Agent"]));
        Assert.Equal("text/plain, text/*, */*", Assert.Single(request.Headers["Accept"]));
        Assert.Equal("{\"ping\":1}", request.Body);
    }

    [Fact]
    public async Task Body_over_4_KiB_keeps_its_tail()
    {
        await using var server = await Answering(200, new string('x', 5000) + "END");
        var state = await FirstState(server.Url + "/");
        Assert.Equal($"HTTP GET {server.Url}/: 200 OK Output: Captured 4096 of 5003 bytes\n...\n" + new string('x', 4093) + "END", state.Output);
    }

    [Fact]
    public async Task No_answer_within_the_default_10_s_is_critical()
    {
        var release = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var asked = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestHttpServer.StartAsync(async _ =>
        {
            asked.TrySetResult();
            await release.Task;
        });
        try
        {
            var clock = new ManualClock();
            await using var recorder = new CheckRecorder($$"""[{"name": "web", "http": "{{server.Url}}/slow", "interval": "10s", "status": "passing"}]""", clock);
            recorder.Set.Start();
            await asked.Task.WaitAsync(TimeSpan.FromSeconds(20));
            Assert.Equal(TimeSpan.FromSeconds(10), Assert.Single(clock.PendingDueTimes) - clock.GetUtcNow());

            clock.Advance(TimeSpan.FromSeconds(10));

            var state = await recorder.NextChange();
            Assert.Equal((CheckStatus.Critical, $"HTTP GET {server.Url}/slow: timed out after 10s awaiting headers"), (state.Status, state.Output));
        }
        finally
        {
            release.TrySetResult();
        }
    }

    [Fact]
    public async Task Refused_connection_is_critical()
    {
        var port = TcpCheckTests.ClosedPort();
        var state = await FirstState($"http://127.0.0.1:{port}/health", """, "status": "passing" """);
        Assert.Equal(CheckStatus.Critical, state.Status);
        Assert.StartsWith($"HTTP GET http://127.0.0.1:{port}/health: ", state.Output);
        Assert.Contains("refused", state.Output, StringComparison.OrdinalIgnoreCase);
    }
}
