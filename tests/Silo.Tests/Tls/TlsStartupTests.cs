using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Tls;

public sealed class TlsStartupTests : IDisposable
{
    private readonly TestCertificates _certs = new();
    private readonly TempDir _data = new();

    public void Dispose()
    {
        _certs.Dispose();
        _data.Dispose();
    }

    private async Task<string> ExpectExit2(params string[] args)
    {
        var (code, stderr, _) = await SiloProcess.RunExpectingFailureAsync(["--data-dir", _data.Path, .. args]);
        Assert.Equal(2, code);
        return Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task Https_url_without_a_certificate_exits_2_naming_the_setting()
    {
        var url = $"https://127.0.0.1:{SiloProcess.FreePort()}";
        var line = await ExpectExit2("--urls", url);
        Assert.Contains(url, line);
        Assert.Contains("Platform:Tls:Cert (--tls-cert)", line);
    }

    [Fact]
    public async Task Certificate_with_only_plain_http_urls_exits_2_asking_for_an_https_url()
    {
        var url = $"http://127.0.0.1:{SiloProcess.FreePort()}";
        var line = await ExpectExit2("--urls", url, "--tls-cert", _certs.Server.CertFile, "--tls-key", _certs.Server.KeyFile);
        Assert.Contains($"Platform:Tls:Cert (--tls-cert) is set but no URL in --urls (ASPNETCORE_URLS) is https: '{url}'", line);
    }

    [Fact]
    public async Task Unreadable_certificate_file_exits_2_naming_the_setting_and_the_file()
    {
        var missing = Path.Combine(_certs.Directory, "missing.pem");
        var line = await ExpectExit2("--urls", $"https://127.0.0.1:{SiloProcess.FreePort()}", "--tls-cert", missing, "--tls-key", _certs.Server.KeyFile);
        Assert.Contains($"Platform:Tls:Cert (--tls-cert) '{missing}' cannot be read", line);
    }

    [Fact]
    public async Task Unreadable_key_file_exits_2_naming_the_setting_and_the_file()
    {
        var missing = Path.Combine(_certs.Directory, "missing-key.pem");
        var line = await ExpectExit2("--urls", $"https://127.0.0.1:{SiloProcess.FreePort()}", "--tls-cert", _certs.Server.CertFile, "--tls-key", missing);
        Assert.Contains($"Platform:Tls:Key (--tls-key) '{missing}' cannot be read", line);
    }

    [Fact]
    public async Task Unreadable_client_ca_file_exits_2_naming_the_setting_and_the_file()
    {
        var missing = Path.Combine(_certs.Directory, "missing-ca.pem");
        var line = await ExpectExit2("--urls", $"https://127.0.0.1:{SiloProcess.FreePort()}", "--tls-cert", _certs.Server.CertFile, "--tls-key", _certs.Server.KeyFile,
            "--tls-client-ca", missing);
        Assert.Contains($"'{missing}' cannot be read", line);
        Assert.Contains("Platform:Tls:ClientCa", line);
    }

    [Fact]
    public async Task Key_of_another_certificate_exits_2_naming_both_files()
    {
        var line = await ExpectExit2("--urls", $"https://127.0.0.1:{SiloProcess.FreePort()}", "--tls-cert", _certs.Server.CertFile, "--tls-key", _certs.Client.KeyFile);
        Assert.Contains($"Platform:Tls:Key (--tls-key) '{_certs.Client.KeyFile}' does not hold the private key of the certificate in Platform:Tls:Cert (--tls-cert) '{_certs.Server.CertFile}'", line);
        Assert.DoesNotContain("PRIVATE KEY", line);
    }

    [Fact]
    public async Task Client_certificate_mode_other_than_required_optional_or_none_exits_2_saying_what_is_expected()
    {
        var line = await ExpectExit2("--urls", $"https://127.0.0.1:{SiloProcess.FreePort()}", "--tls-cert", _certs.Server.CertFile, "--tls-key", _certs.Server.KeyFile,
            "--tls-client-ca", _certs.CaFile, "--tls-client-cert", "sometimes");
        Assert.Contains("Platform:Tls:ClientCert (--tls-client-cert) is 'sometimes'; expected 'required', 'optional' or 'none'", line);
    }
}
