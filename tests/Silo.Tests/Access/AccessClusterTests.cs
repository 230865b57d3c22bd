using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Access;

/// <summary>Tokens in a three-silo cluster on PostgreSQL: made through one silo, known and revoked on every silo.</summary>
[Collection(PostgresCollection.Name)]
public sealed class AccessClusterTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task A_token_made_through_one_silo_works_on_every_silo_and_its_revocation_reaches_them_all()
    {
        var connection = await postgres.DatabaseForAsync(nameof(A_token_made_through_one_silo_works_on_every_silo_and_its_revocation_reaches_them_all));
        await using var cluster = new SiloClusterProcesses(connection, 3, output);
        await cluster.StartAllAsync();
        await cluster.WaitForActiveAsync(3, TimeSpan.FromSeconds(30));

        var admin = await CreateAsync(cluster.Client(0), null, "admin", ["admin"]);
        var reader = await CreateAsync(cluster.Client(0), admin, "reader", ["keys:read"]);

        for (var i = 0; i < cluster.Count; i++)
        {
            // Until a silo has the tokens it is still open and would let any request through: wait for it to close first.
            await PollAsync(cluster.Client(i), null, HttpStatusCode.Unauthorized, $"silo {i} to learn that tokens exist");
            await PollAsync(cluster.Client(i), reader, HttpStatusCode.OK, $"silo {i} to accept the new token");
        }

        using (var revoke = await Send(cluster.Client(1), HttpMethod.Delete, "/v1/access/tokens/reader", admin))
            Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        for (var i = 0; i < cluster.Count; i++)
        {
            var body = await PollAsync(cluster.Client(i), reader, HttpStatusCode.Unauthorized, $"silo {i} to refuse the revoked token");
            Assert.Contains("token 'reader' was revoked", body);
        }
        cluster.Passed = true;
    }

    private static async Task<string> PollAsync(HttpClient client, string? token, HttpStatusCode wanted, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            using var response = await Send(client, HttpMethod.Get, "/v2/keys/", token);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode == wanted) return body;
            Assert.True(DateTime.UtcNow < deadline, $"waited 60 s for {what}; last answer {(int)response.StatusCode} {body}");
            await Task.Delay(100);
        }
    }

    private static async Task<string> CreateAsync(HttpClient client, string? bearer, string name, string[] scopes)
    {
        using var response = await Send(client, HttpMethod.Post, "/v1/access/tokens", bearer, JsonContent.Create(new { name, scopes }));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.Created, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("secret").GetString()!;
    }

    private static Task<HttpResponseMessage> Send(HttpClient client, HttpMethod method, string path, string? bearer, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return client.SendAsync(request);
    }
}
