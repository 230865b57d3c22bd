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
public sealed class RequireAgentCertificateTests
{
    [Fact]
    public async Task Endpoints_that_require_an_agent_certificate_refuse_a_connection_without_one_and_others_answer()
    {
        using var certs = new TestCertificates();
        var port = SiloProcess.FreePort();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(s => new AgentCertificateCheck(
            new TlsClientCertificateValidator(certs.CaFile, TimeProvider.System), ClientCertificateRequirement.Required, s.GetRequiredService<ILogger<AgentCertificateCheck>>()));
        await using var app = builder.Build();
        app.Map("/raw", (RequestDelegate)(c => c.Response.WriteAsync("in"))).RequireAgentCertificate();
        app.MapGet("/typed", () => "in").RequireAgentCertificate();
        app.MapGet("/open", () => "in");
        await app.StartAsync();

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
}
