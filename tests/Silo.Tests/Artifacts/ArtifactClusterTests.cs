using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Artifacts;

/// <summary>Two silo processes on one PostgreSQL: each serves the artifacts uploaded through the other (large objects).</summary>
[Collection(PostgresCollection.Name)]
public sealed class ArtifactClusterTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task Each_silo_serves_the_artifacts_uploaded_through_the_other()
    {
        var connection = await postgres.DatabaseForAsync(nameof(ArtifactClusterTests));
        await using var cluster = new SiloClusterProcesses(connection, 2, output);
        await cluster.StartAllAsync();
        var first = new byte[5 << 20];
        Random.Shared.NextBytes(first);
        var sha = Convert.ToHexStringLower(SHA256.HashData(first));

        using var put = await cluster[0].Http.PutAsync("/v1/artifacts/web/7/site.tar.gz", new ByteArrayContent(first));
        Assert.Equal(HttpStatusCode.Created, put.StatusCode);
        Assert.Equal(sha, JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement.GetProperty("sha256").GetString());

        using var get = await cluster[1].Http.GetAsync("/v1/artifacts/web/7/site.tar.gz");
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal($"\"{sha}\"", get.Headers.ETag?.ToString());
        Assert.Equal(first, await get.Content.ReadAsByteArrayAsync());

        using var range = new HttpRequestMessage(HttpMethod.Get, "/v1/artifacts/web/7/site.tar.gz");
        range.Headers.Range = new RangeHeaderValue(3_000_000, 3_999_999);
        using var partial = await cluster[1].Http.SendAsync(range);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal(first.AsSpan(3_000_000, 1_000_000).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/v1/artifacts/web/7/site.tar.gz");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha}\""));
        Assert.Equal(HttpStatusCode.NotModified, (await cluster[0].Http.SendAsync(conditional)).StatusCode);

        // Replaced through the other silo; a download opened before the replace still reads the old version whole.
        var second = new byte[3 << 20];
        Random.Shared.NextBytes(second);
        using var before = await cluster[0].Http.GetAsync("/v1/artifacts/web/7/site.tar.gz", HttpCompletionOption.ResponseHeadersRead);
        var reading = await before.Content.ReadAsStreamAsync();
        var head = new byte[1024];
        await reading.ReadExactlyAsync(head);
        (await cluster[1].Http.PutAsync("/v1/artifacts/web/7/site.tar.gz", new ByteArrayContent(second))).EnsureSuccessStatusCode();
        using var rest = new MemoryStream();
        await reading.CopyToAsync(rest);
        Assert.Equal(first, head.Concat(rest.ToArray()).ToArray());

        Assert.Equal(second, await cluster[0].Http.GetByteArrayAsync("/v1/artifacts/web/7/site.tar.gz"));
        var list = await cluster[0].Http.GetFromJsonAsync<JsonElement>("/v1/artifacts?prefix=web/");
        Assert.Equal(second.Length, Assert.Single(list.EnumerateArray()).GetProperty("size").GetInt64());

        using var wrong = new HttpRequestMessage(HttpMethod.Put, "/v1/artifacts/web/8/site.tar.gz") { Content = new ByteArrayContent(first) };
        wrong.Headers.Add("X-Checksum-Sha256", new string('b', 64));
        Assert.Equal(HttpStatusCode.BadRequest, (await cluster[1].Http.SendAsync(wrong)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster[0].Http.GetAsync("/v1/artifacts/web/8/site.tar.gz")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await cluster[1].Http.DeleteAsync("/v1/artifacts/web/7/site.tar.gz")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await cluster[0].Http.GetAsync("/v1/artifacts/web/7/site.tar.gz")).StatusCode);
        // No large object outlives its artifact: the replaced, refused and deleted ones are all gone.
        Assert.Equal(0L, await LargeObjectCountAsync(connection));
        cluster.Passed = true;
    }

    private static async Task<long> LargeObjectCountAsync(string connection)
    {
        await using var db = new Npgsql.NpgsqlConnection(connection);
        await db.OpenAsync();
        await using var command = new Npgsql.NpgsqlCommand("SELECT count(*) FROM pg_largeobject_metadata", db);
        return (long)(await command.ExecuteScalarAsync())!;
    }
}
