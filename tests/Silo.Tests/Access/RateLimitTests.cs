using System.Net;
using System.Net.Sockets;
using System.Text;
using Platform.Silo.Tests.Builds;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Support;
using Platform.Silo.Tests.Telemetry;

namespace Platform.Silo.Tests.Access;

/// <summary>The per-address write limit against a real silo, from two client addresses, and on push hooks.</summary>
public sealed class RateLimitTests
{
    /// <summary>Two writes per address, refilled once an hour: the third is over.</summary>
    private static readonly string[] s_twoWrites =
        ["--Platform:Access:RateLimit:PerAddress", "2", "--Platform:Access:RateLimit:PerAddressBurst", "2", "--Platform:Access:RateLimit:Period", "01:00:00"];

    [Fact]
    public async Task Writes_over_an_addresss_limit_get_429_with_Retry_After_and_another_address_and_reads_are_not_held_back()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path, null, [.. s_twoWrites, "--Platform:Access:RateLimit:LimitLoopback", "true"]);
        using var other = ClientFrom(IPAddress.Parse("127.0.0.2"), silo);

        for (var i = 0; i < 2; i++)
            using (var ok = await Put(silo.Http, "/v2/keys/limited"))
                Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
        using (var limited = await Put(silo.Http, "/v2/keys/limited"))
            await AssertLimitedAsync(limited, "127.0.0.1");
        using (var read = await silo.Http.GetAsync("/v2/keys/limited"))
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using (var elsewhere = await Put(other, "/v2/keys/elsewhere"))
            Assert.True(elsewhere.IsSuccessStatusCode, await elsewhere.Content.ReadAsStringAsync());
        await MetricsTests.PollAsync(silo, s => s["platform_access_refused_total{reason=rate_limited}"] == 1);
    }

    [Fact]
    public async Task Push_hooks_are_limited_per_address_from_loopback_while_other_loopback_writes_are_not()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path, null, s_twoWrites);

        for (var i = 0; i < 3; i++)
            using (var ok = await Put(silo.Http, "/v2/keys/exempt"))
                Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
        for (var i = 0; i < 2; i++)
        {
            var (status, body) = await BuildsHttp.SendAsync(silo.Http, BuildsHttp.GitHubPush("limits/unknown", "main", BuildsHttp.Commit, "s"));
            Assert.True(status == 404, $"{status} {body}");
        }
        using (var limited = await silo.Http.SendAsync(BuildsHttp.GitHubPush("limits/unknown", "main", BuildsHttp.Commit, "s")))
            await AssertLimitedAsync(limited, "127.0.0.1");
        using (var ok = await Put(silo.Http, "/v2/keys/exempt"))
            Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
    }

    private static async Task AssertLimitedAsync(HttpResponseMessage response, string address)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.TooManyRequests, $"{(int)response.StatusCode} {body}");
        Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {response.Headers.RetryAfter}");
        Assert.Contains($"too many writes from address {address}", body);
    }

    private static Task<HttpResponseMessage> Put(HttpClient http, string path)
        => http.PutAsync(path, new StringContent("value=x", Encoding.UTF8, RawHttp.Form));

    /// <summary>A client whose connections come from <paramref name="local"/> (any 127.x address reaches the silo on Linux).</summary>
    private static HttpClient ClientFrom(IPAddress local, SiloProcess silo)
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = silo.Http.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }
}
