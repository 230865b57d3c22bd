using System.Text.RegularExpressions;
using Platform.Grains.Tests.Keys;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Tls;

/// <summary>A real <c>platform agent</c> with <c>ca_file</c> against a real HTTPS silo whose certificate it must refuse: what it logs.</summary>
public sealed class AgentTlsProcessTests : IDisposable
{
    private readonly TestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    /// <summary>Starts an agent trusting <paramref name="caFile"/> and waits for its first failed connection's log line.</summary>
    private async Task<string> FirstFailureAsync(TlsSiloProcess silo, string caFile)
    {
        var config = Path.Combine(_certs.Directory, "agent.json");
        await File.WriteAllTextAsync(config, $$"""{"ca_file": {{System.Text.Json.JsonSerializer.Serialize(caFile)}}}""");
        await using var agent = PlatformCommand.Start(
            new Dictionary<string, string>(),
            "agent", "-node", "web-1", "-server", silo.BaseAddress.ToString(), "-data-dir", Path.Combine(_certs.Directory, "agent-data"), "-config-file", config);
        Assert.True(await agent.StdErr.WaitForTextAsync(" ended: ", TimeSpan.FromSeconds(60)), $"the agent logged no failed connection:\n{agent.StdErr.Text}");
        Assert.DoesNotContain("connected to", agent.StdErr.Text);
        return agent.StdErr.Text;
    }

    private static void AssertLogged(string log, TlsSiloProcess silo, string reason)
        => Assert.Matches(
            $@"warn: [\w.]+\[101\] agent: connection to {Regex.Escape(silo.BaseAddress.ToString())} ended: {Regex.Escape(reason)}\r?\n",
            log);

    [Fact]
    public async Task An_agent_trusting_another_CA_logs_that_the_silos_certificate_is_not_signed_by_it()
    {
        await using var silo = await TlsSiloProcess.StartAsync(_certs.Server, _certs.CaFile);

        var log = await FirstFailureAsync(silo, _certs.OtherCaFile);

        AssertLogged(log, silo, $"the silo's certificate (CN=silo), issued by CN=Platform Test CA, is not signed by the CA in '{_certs.OtherCaFile}'");
    }

    [Fact]
    public async Task An_agent_refuses_an_expired_silo_certificate_and_logs_when_it_expired()
    {
        await using var silo = await TlsSiloProcess.StartAsync(_certs.ExpiredServer, _certs.CaFile, new ManualTime(_certs.ExpiredServer.NotAfter.AddHours(-1)));

        var log = await FirstFailureAsync(silo, _certs.CaFile);

        AssertLogged(log, silo, $"the silo's certificate (CN=silo expired) expired on {_certs.ExpiredServer.NotAfter.UtcDateTime:u}");
    }
}
