using System.Net.WebSockets;
using System.Net;
using Platform.Client.Tls;
using Platform.Protocol;
using Platform.Silo.Tests.Nodes.Serf;
using Platform.Silo.Tests.Support;
using Platform.Silo.Tls;

namespace Platform.Silo.Tests.Tls;

/// <summary>One HTTPS silo that asks agents for client certificates signed by the test CA.</summary>
public sealed class ClientCaSiloFixture : IAsyncLifetime
{
    public TestCertificates Certificates { get; } = new();
    public TlsSiloProcess Silo { get; private set; } = null!;

    public async Task InitializeAsync()
        => Silo = await TlsSiloProcess.StartAsync(Certificates.Server, Certificates.CaFile, "--tls-client-ca", Certificates.CaFile, "--tls-client-cert", "required");

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        Certificates.Dispose();
    }
}

public sealed class AgentCertificateTests(ClientCaSiloFixture fixture) : IClassFixture<ClientCaSiloFixture>
{
    private TestCertificates Certs => fixture.Certificates;
    private TlsSiloProcess Silo => fixture.Silo;

    private TlsClientSettings Agent(TestCertificates.Pem? client) => new() { CaFile = Certs.CaFile, CertFile = client?.CertFile, KeyFile = client?.KeyFile };

    /// <summary>Opens the agent WebSocket as an agent does; the HTTP status the silo answered the upgrade with.</summary>
    private async Task<HttpStatusCode> ConnectAgentAsync(TlsClientSettings settings) => (await UpgradeAsync(settings)).Status;

    /// <summary>The upgrade's status and its <c>X-Platform-Denied</c> header: all a WebSocket client learns of a refusal.</summary>
    private async Task<(HttpStatusCode Status, string? Denied)> UpgradeAsync(TlsClientSettings settings)
    {
        using var ws = new ClientWebSocket();
        ws.Options.CollectHttpResponseDetails = true;
        ws.Options.AddSubProtocol(AgentProtocol.SubProtocol);
        settings.Configure(ws.Options);
        using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            await ws.ConnectAsync(new Uri($"wss://{Silo.BaseAddress.Authority}{AgentProtocol.ConnectPath}"), cts.Token);
            ws.Abort();
        }
        catch (WebSocketException e) when (ws.HttpStatusCode != 0)
        {
            Assert.Null(TlsClientSettings.DescribeFailure(e));
        }
        var denied = ws.HttpResponseHeaders?.TryGetValue("X-Platform-Denied", out var values) == true ? string.Join(' ', values) : null;
        return (ws.HttpStatusCode, denied);
    }

    private async Task<(HttpStatusCode Status, string Body)> GetConnectPathAsync(TlsClientSettings settings)
    {
        using var http = Silo.CreateHttpClient(settings);
        using var response = await http.GetAsync(AgentProtocol.ConnectPath);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Health_ready_answers_over_https_to_a_client_that_trusts_the_CA_without_a_client_certificate()
    {
        using var http = Silo.CreateHttpClient(new TlsClientSettings { CaFile = Certs.CaFile });
        using var response = await http.GetAsync("/health/ready");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"ready\"", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Client_trusting_another_CA_refuses_the_silo_saying_its_certificate_is_not_signed_by_that_CA()
    {
        using var http = Silo.CreateHttpClient(new TlsClientSettings { CaFile = Certs.OtherCaFile });
        var e = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("/health/ready"));
        var why = TlsClientSettings.DescribeFailure(e);
        Assert.NotNull(why);
        Assert.Contains($"the silo's certificate (CN=silo), issued by CN=Platform Test CA, is not signed by the CA in '{Certs.OtherCaFile}'", why);
    }

    [Fact]
    public async Task Agent_connection_without_a_client_certificate_is_refused_with_403_saying_why_and_logged()
    {
        var (upgrade, denied) = await UpgradeAsync(Agent(null));
        Assert.Equal(HttpStatusCode.Forbidden, upgrade);
        Assert.Equal($"{AgentCertificateCheck.Refusal}: no client certificate was sent", denied);

        var (status, body) = await GetConnectPathAsync(Agent(null));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.StartsWith("agent connections need a client certificate signed by the configured CA (Platform:Tls:ClientCa): no client certificate was sent", body);
        await Silo.WaitForOutputAsync("refused: no client certificate was sent", TimeSpan.FromSeconds(10));
        Assert.Matches(@"warn: Platform\.Silo\.Tls\.AgentCertificateCheck\[10\] agent connection from 127\.0\.0\.1:\d+ refused: no client certificate was sent", Silo.Output);
    }

    [Fact]
    public async Task Agent_connection_with_a_certificate_from_another_CA_is_refused_with_403_naming_the_certificate()
    {
        Assert.Equal(HttpStatusCode.Forbidden, await ConnectAgentAsync(Agent(Certs.OtherCaClient)));

        var (status, body) = await GetConnectPathAsync(Agent(Certs.OtherCaClient));
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Contains("the client certificate (CN=node-other, issued by CN=Other Test CA) is not signed by a CA in Platform:Tls:ClientCa", body);
        await Silo.WaitForOutputAsync("refused: the client certificate (CN=node-other", TimeSpan.FromSeconds(10));
        Assert.DoesNotContain("PRIVATE KEY", Silo.Output);
    }

    [Fact]
    public async Task Agent_connection_with_an_expired_certificate_is_refused_saying_when_it_expired()
    {
        Assert.Equal(HttpStatusCode.Forbidden, await ConnectAgentAsync(Agent(Certs.ExpiredClient)));

        var (_, body) = await GetConnectPathAsync(Agent(Certs.ExpiredClient));
        Assert.Contains($"the client certificate (CN=node-expired, issued by CN=Platform Test CA) expired on {Certs.ExpiredClient.NotAfter.UtcDateTime:u}", body);
    }

    [Fact]
    public async Task Agent_connection_with_a_certificate_signed_by_the_CA_passes_the_check()
    {
        // Past the check the upgrade goes to whatever maps the route: the agent hub (101), or nothing yet (404).
        var status = await ConnectAgentAsync(Agent(Certs.Client));
        Assert.NotEqual(HttpStatusCode.Forbidden, status);
        Assert.Contains(status, new[] { HttpStatusCode.SwitchingProtocols, HttpStatusCode.NotFound });
    }

    [Fact]
    public async Task A_platform_agent_without_a_client_certificate_exits_3_saying_the_silo_wants_one_and_not_retrying()
    {
        using var dir = new TempDir();
        var config = Path.Combine(dir.Path, "agent.json");
        await File.WriteAllTextAsync(config, System.Text.Json.JsonSerializer.Serialize(new Dictionary<string, object>
        {
            ["node_name"] = "no-cert",
            ["servers"] = new[] { $"https://{Silo.BaseAddress.Authority}" },
            ["ca_file"] = Certs.CaFile,
            ["data_dir"] = Path.Combine(dir.Path, "data"),
            ["bind"] = $"127.0.0.1:{SiloProcess.FreePort()}",
        }));
        var (exit, output) = await NodeProcess.RunAsync("platform agent no-cert", "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "platform.dll"), "agent", "-config-file", config], TimeSpan.FromSeconds(60),
            new Dictionary<string, string> { ["PLATFORM_URL"] = "", ["PLATFORM_TOKEN"] = "" });

        Assert.True(exit == 3, $"exit {exit}, expected 3 (refused); output:\n{output}");
        Assert.Contains($"access refused (HTTP 403): {AgentCertificateCheck.Refusal}: no client certificate was sent; not retrying", output);
        Assert.Contains("the 'cert_file' and 'key_file' config keys", output);
    }
}
