using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Silo.Tests.Support;
using Platform.Silo.Tls;

namespace Platform.Silo.Tests.Tls;

/// <summary><see cref="AgentCertificateEndpoints.RequireAgentCertificate"/> on endpoints of both kinds, in a small web app over plain HTTP (which carries no client certificate).</summary>
public sealed class RequireAgentCertificateTests : IDisposable
{
    private readonly TestCertificates _certs = new();

    public void Dispose() => _certs.Dispose();

    private async Task<WebApplication> StartAsync(ClientCertificateRequirement requirement, int port)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(s => new AgentCertificateCheck(
            new TlsClientCertificateValidator(_certs.CaFile, TimeProvider.System), requirement, s.GetRequiredService<ILogger<AgentCertificateCheck>>()));
        var app = builder.Build();
        app.Map("/raw", (RequestDelegate)(c => c.Response.WriteAsync("in"))).RequireAgentCertificate();
        app.MapGet("/typed", () => "in").RequireAgentCertificate();
        app.MapGet("/open", () => "in");
        await app.StartAsync();
        return app;
    }

    [Fact]
    public async Task Required_mode_refuses_a_connection_without_a_certificate_on_endpoints_that_ask_and_others_answer()
    {
        var port = SiloProcess.FreePort();
        await using var app = await StartAsync(ClientCertificateRequirement.Required, port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        foreach (var path in new[] { "/raw", "/typed" })
        {
            using var refused = await http.GetAsync(path);
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Equal($"{AgentCertificateCheck.Refusal}: the connection is plain HTTP, which carries no client certificate\n", await refused.Content.ReadAsStringAsync());
        }
        Assert.Equal("in", await http.GetStringAsync("/open"));
        await app.StopAsync();
    }

    [Fact]
    public async Task Optional_mode_lets_a_connection_without_a_certificate_in()
    {
        var port = SiloProcess.FreePort();
        await using var app = await StartAsync(ClientCertificateRequirement.Optional, port);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
        Assert.Equal("in", await http.GetStringAsync("/raw"));
        Assert.Equal("in", await http.GetStringAsync("/typed"));
        await app.StopAsync();
    }
}
