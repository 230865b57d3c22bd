using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Access;

/// <summary>When a silo may serve without tokens, the bootstrap token, the etcd short path once tokens exist, rate limits and secrets in logs.</summary>
public sealed partial class AccessStartupTests
{
    [Fact]
    public async Task A_silo_listening_beyond_loopback_without_tokens_refuses_to_start_and_says_why()
    {
        using var dir = new TempDir();
        var port = SiloProcess.FreePort();
        var (exit, stderr, _) = await SiloProcess.RunExpectingFailureAsync("--urls", $"http://0.0.0.0:{port}", "--data-dir", dir.Path);
        Assert.Equal(2, exit);
        Assert.Contains($"the silo listens on http://0.0.0.0:{port}, beyond this machine, and no access token exists", stderr);
        Assert.Contains("--bootstrap", stderr);
        Assert.Contains("--insecure", stderr);
    }

    [Fact]
    public async Task A_silo_beyond_loopback_told_insecure_serves_without_tokens()
    {
        using var dir = new TempDir();
        var port = SiloProcess.FreePort();
        await using var silo = await SiloProcess.StartAsync(dir.Path, port, "--urls", $"http://0.0.0.0:{port}", "--insecure");
        using var put = await silo.Http.PutAsync("/v2/keys/open", new StringContent("value=1", Encoding.UTF8, RawHttp.Form));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
    }

    [Fact]
    public async Task Bootstrap_prints_an_admin_token_once_at_the_first_start_and_no_secret_ever_reaches_the_logs()
    {
        using var dir = new TempDir();
        var port = SiloProcess.FreePort();
        string bootstrap;
        var secrets = new List<string>();
        string firstRun;
        await using (var silo = await SiloProcess.StartAsync(dir.Path, port, "--bootstrap"))
        {
            var printed = BootstrapLine().Matches(silo.Output);
            Assert.Single(printed);
            bootstrap = printed[0].Groups[1].Value;

            // Use the tokens every way a client can send them, good and bad, so that the log has every kind of line.
            var secret = await CreateAsync(silo, bootstrap, "logged", ["keys:write"]);
            secrets.Add(secret);
            var etcd = new Uri($"http://127.0.0.1:{port}");
            Assert.Equal(0, (await Etcdctl.RunAsync(etcd, ["--username", $"logged:{secret}", "set", "/logs/a", "1"], noSync: true)).ExitCode);
            Assert.NotEqual(0, (await Etcdctl.RunAsync(etcd, ["--username", $"wrong:{secret}", "get", "/logs/a"], noSync: true)).ExitCode);
            using (var consul = new HttpRequestMessage(HttpMethod.Get, "/v1/kv/logs/a"))
            {
                consul.Headers.Add("X-Consul-Token", secret);
                using var answer = await silo.Http.SendAsync(consul);
                Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
            }
            using (var query = await silo.Http.GetAsync($"/v1/kv/logs/a?token={Uri.EscapeDataString(secret)}"))
                Assert.Equal(HttpStatusCode.OK, query.StatusCode);
            using (var forbidden = await Send(silo, HttpMethod.Post, "/v1/events/deploy", secret))
                Assert.Equal(HttpStatusCode.Forbidden, forbidden.StatusCode);
            var revoked = await CreateAsync(silo, bootstrap, "revoked", ["nodes:read"]);
            secrets.Add(revoked);
            using (var revoke = await Send(silo, HttpMethod.Delete, "/v1/access/tokens/revoked", bootstrap))
                Assert.True(revoke.IsSuccessStatusCode);
            using (var refused = await Send(silo, HttpMethod.Get, "/v1/nodes", revoked))
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
            Assert.Equal(0, await silo.TerminateAsync(TimeSpan.FromSeconds(60)));
            firstRun = silo.Output;
        }

        // A second start, now beyond loopback: tokens exist, so it starts; the cluster had a token, so nothing is printed.
        await using (var again = await SiloProcess.StartAsync(dir.Path, port, "--bootstrap", "--urls", $"http://0.0.0.0:{port}"))
        {
            Assert.Empty(BootstrapLine().Matches(again.Output));
            using (var works = await Send(again, HttpMethod.Get, "/v1/access/tokens", bootstrap))
                Assert.Equal(HttpStatusCode.OK, works.StatusCode);
            using (var anonymous = await again.Http.GetAsync("/v2/keys/logs/a"))
                Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal(0, await again.TerminateAsync(TimeSpan.FromSeconds(60)));
            var secondRun = again.Output;

            Assert.Equal(1, Occurrences(firstRun, bootstrap));
            Assert.Equal(0, Occurrences(secondRun, bootstrap));
            foreach (var secret in secrets)
            {
                Assert.Equal(0, Occurrences(firstRun, secret));
                Assert.Equal(0, Occurrences(secondRun, secret));
                // Nor the random part alone (after the id), which is what makes a secret one.
                Assert.Equal(0, Occurrences(firstRun, secret[21..]));
            }
            Assert.Contains("access: refused 401 GET /v2/keys/logs/a", firstRun);
        }
    }

    [Fact]
    public async Task A_keep_alive_etcd_connection_opened_while_the_silo_was_open_is_checked_once_the_first_token_exists()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path);
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, silo.Port);
        var stream = client.GetStream();
        var request = Encoding.ASCII.GetBytes("GET /v2/keys/short HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
        await stream.WriteAsync(request);
        var first = await ReadHeadAsync(stream);
        Assert.StartsWith("HTTP/1.1 404", first);
        await SkipBodyAsync(stream, first);

        await CreateAsync(silo, null, "root", ["admin"]);

        // The connection the short path held is closed, or its next request is checked: never answered unchecked.
        string? second;
        try
        {
            await stream.WriteAsync(request);
            second = await ReadHeadAsync(stream);
        }
        catch (IOException)
        {
            second = null;
        }
        Assert.True(second is null or "" || second.StartsWith("HTTP/1.1 401", StringComparison.Ordinal), $"answered: {second}");
        using var fresh = await silo.Http.GetAsync("/v2/keys/short");
        Assert.Equal(HttpStatusCode.Unauthorized, fresh.StatusCode);
    }

    [Fact]
    public async Task Writes_over_a_tokens_rate_limit_get_429_with_Retry_After_and_another_token_is_not_held_back()
    {
        using var dir = new TempDir();
        await using var silo = await SiloProcess.StartAsync(dir.Path, null,
            "--Platform:Access:RateLimit:PerToken", "2", "--Platform:Access:RateLimit:PerTokenBurst", "2", "--Platform:Access:RateLimit:Period", "01:00:00");
        var root = await CreateAsync(silo, null, "root", ["admin"]);
        var hook = await CreateAsync(silo, root, "hook", ["keys:write"]);
        var other = await CreateAsync(silo, root, "other", ["keys:write"]);
        for (var i = 0; i < 2; i++)
        {
            using var ok = await Send(silo, HttpMethod.Put, "/v2/keys/hook", hook, new StringContent("value=x", Encoding.UTF8, RawHttp.Form));
            Assert.True(ok.IsSuccessStatusCode, await ok.Content.ReadAsStringAsync());
        }
        using var limited = await Send(silo, HttpMethod.Put, "/v2/keys/hook", hook, new StringContent("value=x", Encoding.UTF8, RawHttp.Form));
        Assert.Equal(HttpStatusCode.TooManyRequests, limited.StatusCode);
        Assert.True(limited.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"Retry-After: {limited.Headers.RetryAfter}");
        Assert.Contains("too many writes from token 'hook'", await limited.Content.ReadAsStringAsync());
        // Reads are not limited, and another token has its own bucket.
        using (var read = await Send(silo, HttpMethod.Get, "/v2/keys/hook", hook))
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        using (var write = await Send(silo, HttpMethod.Put, "/v2/keys/other", other, new StringContent("value=y", Encoding.UTF8, RawHttp.Form)))
            Assert.True(write.IsSuccessStatusCode);
        using var stats = await Send(silo, HttpMethod.Get, "/v1/access/stats", root);
        Assert.Equal(1, JsonDocument.Parse(await stats.Content.ReadAsStringAsync()).RootElement.GetProperty("refused").GetProperty("rateLimited").GetInt64());
    }

    private static async Task<string> CreateAsync(SiloProcess silo, string? bearer, string name, string[] scopes)
    {
        using var response = await Send(silo, HttpMethod.Post, "/v1/access/tokens", bearer, JsonContent.Create(new { name, scopes }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("secret").GetString()!;
    }

    private static Task<HttpResponseMessage> Send(SiloProcess silo, HttpMethod method, string path, string? bearer, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return silo.Http.SendAsync(request);
    }

    private static int Occurrences(string text, string value) => Regex.Matches(text, Regex.Escape(value)).Count;

    private static async Task<string> ReadHeadAsync(NetworkStream stream)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, timeout.Token) == 0) break;
            head.Append((char)one[0]);
        }
        return head.ToString();
    }

    private static async Task SkipBodyAsync(NetworkStream stream, string head)
    {
        var length = Regex.Match(head, @"Content-Length: (\d+)", RegexOptions.IgnoreCase);
        if (length.Success)
        {
            var body = new byte[int.Parse(length.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture)];
            await stream.ReadExactlyAsync(body);
            return;
        }
        // Chunked: read until the last chunk.
        var text = new StringBuilder();
        var one = new byte[1];
        while (!text.ToString().EndsWith("0\r\n\r\n", StringComparison.Ordinal) && await stream.ReadAsync(one) > 0) text.Append((char)one[0]);
    }

    [GeneratedRegex(@"bootstrap token \(scope admin; shown this once, keep it safe\): (plt_\S+)")]
    private static partial Regex BootstrapLine();
}
