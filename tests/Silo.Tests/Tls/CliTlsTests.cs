using Platform.Grains.Tests.Keys;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Tls;

/// <summary>The real <c>platform</c> command against a real HTTPS silo, trusting what PLATFORM_CA_FILE names.</summary>
public sealed class CliTlsTests : IDisposable
{
    private readonly TestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    private static Task<ProcessResult> MembersAsync(TlsSiloProcess silo, string? caFile)
    {
        var env = new Dictionary<string, string> { ["PLATFORM_URL"] = silo.BaseAddress.ToString() };
        // The variables may be set in the test's own environment: an empty one counts as not set.
        env["PLATFORM_CA_FILE"] = caFile ?? "";
        env["PLATFORM_CERT_FILE"] = "";
        env["PLATFORM_KEY_FILE"] = "";
        return PlatformCommand.RunAsync(env, "members", "-format", "json");
    }

    [Fact]
    public async Task The_command_trusts_the_CA_in_PLATFORM_CA_FILE_and_refuses_a_silo_of_another_CA_naming_the_file()
    {
        await using var silo = await TlsSiloProcess.StartAsync(_certs.Server, _certs.CaFile);

        var trusted = await MembersAsync(silo, _certs.CaFile);
        Assert.True(trusted.ExitCode == 0, trusted.ToString());
        Assert.Contains("\"members\": null", trusted.StdOut);

        var other = await MembersAsync(silo, _certs.OtherCaFile);
        Assert.True(other.ExitCode == 1, other.ToString());
        Assert.Equal(
            $"Error retrieving members: the silo's certificate (CN=silo), issued by CN=Platform Test CA, is not signed by the CA in '{_certs.OtherCaFile}'",
            other.StdErr.Trim());

        var none = await MembersAsync(silo, caFile: null);
        Assert.True(none.ExitCode == 1, none.ToString());
        Assert.Equal(
            "Error retrieving members: the silo's certificate (CN=silo), issued by CN=Platform Test CA, is not signed by a CA this machine trusts; give the silo's CA file in PLATFORM_CA_FILE",
            none.StdErr.Trim());
    }

    [Fact]
    public async Task An_expired_silo_certificate_is_refused_saying_when_it_expired()
    {
        // The readiness check runs at a time the certificate was still valid; the command runs now.
        await using var silo = await TlsSiloProcess.StartAsync(_certs.ExpiredServer, _certs.CaFile, new ManualTime(_certs.ExpiredServer.NotAfter.AddHours(-1)));

        var result = await MembersAsync(silo, _certs.CaFile);

        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Equal(
            $"Error retrieving members: the silo's certificate (CN=silo expired) expired on {_certs.ExpiredServer.NotAfter.UtcDateTime:u}",
            result.StdErr.Trim());
    }

    [Fact]
    public async Task A_CA_file_that_cannot_be_read_is_a_usage_error_naming_the_variable_and_the_file()
    {
        var missing = Path.Combine(_certs.Directory, "no-such-ca.pem");
        var result = await PlatformCommand.RunAsync(
            new Dictionary<string, string> { ["PLATFORM_URL"] = "https://127.0.0.1:1", ["PLATFORM_CA_FILE"] = missing, ["PLATFORM_CERT_FILE"] = "", ["PLATFORM_KEY_FILE"] = "" },
            "members");

        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.StartsWith($"Error: PLATFORM_CA_FILE: the CA file '{missing}' cannot be read", result.StdErr);
    }
}
