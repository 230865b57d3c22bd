using System.Net;
using Platform.Silo.Tests.Access;

namespace Platform.Silo.Tests.Artifacts;

/// <summary>Who may write and read artifacts once a silo has tokens (docs/security.md).</summary>
public sealed class ArtifactAccessTests(AccessSilo silo) : IClassFixture<AccessSilo>
{
    [Fact]
    public async Task Writes_need_build_or_deploy_and_an_agent_token_may_read()
    {
        var build = await silo.CreateAsync("ci-artifacts", ["build"]);
        var agent = await silo.CreateAsync("node-artifacts", ["agent"]);
        var keys = await silo.CreateAsync("keys-artifacts", ["keys:read"]);

        using var refused = await silo.SendAsync(HttpMethod.Put, "/v1/artifacts/app/1.tar", keys, new ByteArrayContent([1, 2, 3]));
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Contains("lacks scope 'build' or 'deploy'", await refused.Content.ReadAsStringAsync());
        using var anonymous = await silo.SendAsync(HttpMethod.Put, "/v1/artifacts/app/1.tar", null, new ByteArrayContent([1, 2, 3]));
        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        using var agentWrite = await silo.SendAsync(HttpMethod.Delete, "/v1/artifacts/app/1.tar", agent);
        Assert.Equal(HttpStatusCode.Forbidden, agentWrite.StatusCode);

        using var stored = await silo.SendAsync(HttpMethod.Put, "/v1/artifacts/app/1.tar", build, new ByteArrayContent([1, 2, 3]));
        Assert.Equal(HttpStatusCode.Created, stored.StatusCode);

        using var read = await silo.SendAsync(HttpMethod.Get, "/v1/artifacts/app/1.tar", agent);
        Assert.Equal(HttpStatusCode.OK, read.StatusCode);
        Assert.Equal([1, 2, 3], await read.Content.ReadAsByteArrayAsync());
        using var keysRead = await silo.SendAsync(HttpMethod.Get, "/v1/artifacts/app/1.tar", keys);
        Assert.Equal(HttpStatusCode.Forbidden, keysRead.StatusCode);
        Assert.Contains("'agent' or 'nodes:read' or 'build' or 'deploy'", await keysRead.Content.ReadAsStringAsync());
    }
}
