using System.Collections.Concurrent;
using Platform.Agent.Configuration;
using Platform.Agent.Tests.Support;

namespace Platform.Agent.Tests;

public sealed class NodeAgentTlsTests : IDisposable
{
    private readonly TempDir _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public async Task The_agent_trusts_the_configured_ca_and_presents_its_client_certificate()
    {
        var certificates = TestCertificates.Create(_dir.Path);
        await using var silo = await FakeSilo.StartAsync(certificate: certificates.Server);
        Assert.Equal("https", silo.Url.Scheme);
        var settings = AgentSettings.Resolve(new AgentConfig
        {
            NodeName = "web-1",
            Servers = [silo.Url.ToString()],
            DataDir = Path.Combine(_dir.Path, "data"),
            CaFile = certificates.CaFile,
            CertFile = certificates.ClientCertFile,
            KeyFile = certificates.ClientKeyFile,
        });
        await using var agent = new NodeAgent(settings);
        await agent.StartAsync();

        await Eventually.True(() => silo.IsConnected, "a TLS connection");
        Assert.Equal("CN=web-1", Assert.Single(silo.ClientCertificates));
    }

    [Fact]
    public async Task A_silo_certificate_outside_the_configured_ca_is_not_trusted()
    {
        var trusted = TestCertificates.Create(_dir.Path);
        var otherDir = Directory.CreateDirectory(Path.Combine(_dir.Path, "other")).FullName;
        var other = TestCertificates.Create(otherDir);
        await using var silo = await FakeSilo.StartAsync(certificate: other.Server);
        var (agent, reasons) = await FailedAttemptAsync(silo, trusted.CaFile);
        await using var _ = agent;
        Assert.False(agent.Connection.IsConnected);
        // The reason is what the agent logs ("agent: connection to … ended: …"): it names the certificate and the CA file.
        Assert.Equal($"the silo's certificate (CN=127.0.0.1), issued by CN=Platform Test CA, is not signed by the CA in '{trusted.CaFile}'", reasons.First());
    }

    [Fact]
    public async Task An_expired_silo_certificate_is_not_trusted_and_the_reason_says_when_it_expired()
    {
        var certificates = TestCertificates.Create(_dir.Path, expiredServer: true);
        await using var silo = await FakeSilo.StartAsync(certificate: certificates.Server);
        var (agent, reasons) = await FailedAttemptAsync(silo, certificates.CaFile);
        await using var _ = agent;
        Assert.Equal($"the silo's certificate (CN=127.0.0.1) expired on {certificates.Server.NotAfter.ToUniversalTime():u}", reasons.First());
    }

    /// <summary>Starts an agent that trusts <paramref name="caFile"/> against <paramref name="silo"/> and waits for its first failed attempt.</summary>
    private async Task<(NodeAgent Agent, ConcurrentQueue<string> Reasons)> FailedAttemptAsync(FakeSilo silo, string caFile)
    {
        var agent = new NodeAgent(AgentSettings.Resolve(new AgentConfig
        {
            NodeName = "web-1",
            Servers = [silo.Url.ToString()],
            DataDir = Path.Combine(_dir.Path, "data"),
            CaFile = caFile,
        }));
        var reasons = new ConcurrentQueue<string>();
        agent.Connection.Disconnected += (_, reason) => reasons.Enqueue(reason);
        try
        {
            await agent.StartAsync();
            await Eventually.True(() => !reasons.IsEmpty, "a failed attempt");
            Assert.Equal(0, silo.Connections);
            return (agent, reasons);
        }
        catch
        {
            await agent.DisposeAsync();
            throw;
        }
    }
}
