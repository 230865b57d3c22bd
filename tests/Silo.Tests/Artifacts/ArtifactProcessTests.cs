using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.Silo.Tests.Etcd;

namespace Platform.Silo.Tests.Artifacts;

/// <summary>The artifact API of a real SQLite silo, over real HTTP: files under the data directory, metadata in SQLite.</summary>
public sealed class ArtifactProcessTests(ArtifactSilo fixture) : IClassFixture<ArtifactSilo>
{
    private HttpClient Http => fixture.Silo.Http;

    [Fact]
    public async Task Multi_megabyte_upload_answers_the_sha256_that_sha256sum_prints_and_reads_back_byte_for_byte()
    {
        var path = ArtifactBodies.RandomFile(fixture.Scratch, "app.tar.gz", 12 << 20);
        var expected = await ArtifactBodies.Sha256SumAsync(path);

        await using (var file = File.OpenRead(path))
        {
            using var put = await Http.PutAsync("/v1/artifacts/myrepo/42/dist/app.tar.gz", new StreamContent(file));
            Assert.Equal(HttpStatusCode.Created, put.StatusCode);
            var answer = JsonDocument.Parse(await put.Content.ReadAsStringAsync()).RootElement;
            Assert.Equal("myrepo/42/dist/app.tar.gz", answer.GetProperty("name").GetString());
            Assert.Equal(12 << 20, answer.GetProperty("size").GetInt64());
            Assert.Equal(expected, answer.GetProperty("sha256").GetString());
            Assert.True(answer.TryGetProperty("created", out _));
        }

        using var get = await Http.GetAsync("/v1/artifacts/myrepo/42/dist/app.tar.gz", HttpCompletionOption.ResponseHeadersRead);
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
        Assert.Equal(12 << 20, get.Content.Headers.ContentLength);
        Assert.Equal($"\"{expected}\"", get.Headers.ETag?.ToString());
        var downloaded = Path.Combine(fixture.Scratch, "downloaded");
        await using (var target = File.Create(downloaded)) await (await get.Content.ReadAsStreamAsync()).CopyToAsync(target);
        Assert.Equal(expected, await ArtifactBodies.Sha256SumAsync(downloaded));
    }

    [Fact]
    public async Task Range_requests_answer_206_with_exactly_the_bytes_asked_for()
    {
        var bytes = RandomBytes(3 << 20);
        (await Http.PutAsync("/v1/artifacts/range/blob", new ByteArrayContent(bytes))).EnsureSuccessStatusCode();

        using var middle = new HttpRequestMessage(HttpMethod.Get, "/v1/artifacts/range/blob");
        middle.Headers.Range = new RangeHeaderValue(1_000_000, 2_500_000);
        using var partial = await Http.SendAsync(middle);
        Assert.Equal(HttpStatusCode.PartialContent, partial.StatusCode);
        Assert.Equal($"bytes 1000000-2500000/{bytes.Length}", partial.Content.Headers.ContentRange?.ToString());
        Assert.Equal(bytes.AsSpan(1_000_000, 1_500_001).ToArray(), await partial.Content.ReadAsByteArrayAsync());

        using var tail = new HttpRequestMessage(HttpMethod.Get, "/v1/artifacts/range/blob");
        tail.Headers.Range = new RangeHeaderValue(null, 100);
        using var suffix = await Http.SendAsync(tail);
        Assert.Equal(HttpStatusCode.PartialContent, suffix.StatusCode);
        Assert.Equal(bytes.AsSpan(bytes.Length - 100).ToArray(), await suffix.Content.ReadAsByteArrayAsync());

        using var beyond = new HttpRequestMessage(HttpMethod.Get, "/v1/artifacts/range/blob");
        beyond.Headers.Range = new RangeHeaderValue(bytes.Length + 10, null);
        using var unsatisfiable = await Http.SendAsync(beyond);
        Assert.Equal(HttpStatusCode.RequestedRangeNotSatisfiable, unsatisfiable.StatusCode);
    }

    [Fact]
    public async Task Etag_in_If_None_Match_answers_304_and_HEAD_answers_the_headers_without_a_body()
    {
        var bytes = RandomBytes(100_000);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        (await Http.PutAsync("/v1/artifacts/etag/one", new ByteArrayContent(bytes))).EnsureSuccessStatusCode();

        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/v1/artifacts/etag/one");
        conditional.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{sha}\""));
        using var notModified = await Http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        using var stale = new HttpRequestMessage(HttpMethod.Get, "/v1/artifacts/etag/one");
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue($"\"{new string('0', 64)}\""));
        using var fresh = await Http.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(bytes, await fresh.Content.ReadAsByteArrayAsync());

        using var head = await Http.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v1/artifacts/etag/one"));
        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(bytes.Length, head.Content.Headers.ContentLength);
        Assert.Equal($"\"{sha}\"", head.Headers.ETag?.ToString());
        Assert.Equal("bytes", head.Headers.AcceptRanges.Single());
    }

    [Fact]
    public async Task Put_of_an_existing_name_replaces_it_whole()
    {
        var first = RandomBytes(200_000);
        var second = RandomBytes(300_000);
        (await Http.PutAsync("/v1/artifacts/replace/app", new ByteArrayContent(first))).EnsureSuccessStatusCode();
        (await Http.PutAsync("/v1/artifacts/replace/app", new ByteArrayContent(second))).EnsureSuccessStatusCode();

        Assert.Equal(second, await Http.GetByteArrayAsync("/v1/artifacts/replace/app"));
        var list = await Http.GetFromJsonAsync<JsonElement>("/v1/artifacts?prefix=replace/");
        var only = Assert.Single(list.EnumerateArray());
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(second)), only.GetProperty("sha256").GetString());
        // The first version's file is gone, not kept beside the second.
        Assert.Equal(CountBlobsOf(await Http.GetFromJsonAsync<JsonElement>("/v1/artifacts")), Directory.GetFiles(Path.Combine(fixture.DataDir, "artifacts", "blobs")).Length);
    }

    [Fact]
    public async Task Readers_during_repeated_replaces_see_one_version_whole_never_a_mix()
    {
        var versions = Enumerable.Range(0, 4).Select(_ => RandomBytes(2 << 20)).ToArray();
        var hashes = versions.Select(v => Convert.ToHexStringLower(SHA256.HashData(v))).ToHashSet();
        (await Http.PutAsync("/v1/artifacts/mix/app", new ByteArrayContent(versions[0]))).EnsureSuccessStatusCode();

        var writer = Task.Run(async () =>
        {
            for (var i = 1; i < 12; i++) (await Http.PutAsync("/v1/artifacts/mix/app", new ByteArrayContent(versions[i % versions.Length]))).EnsureSuccessStatusCode();
        });
        var reads = 0;
        while (!writer.IsCompleted || reads == 0)
        {
            var body = await Http.GetByteArrayAsync("/v1/artifacts/mix/app");
            Assert.Contains(Convert.ToHexStringLower(SHA256.HashData(body)), hashes);
            reads++;
        }
        await writer;
    }

    [Fact]
    public async Task Upload_over_the_size_limit_answers_413_and_stores_nothing()
    {
        using var declared = await Http.PutAsync("/v1/artifacts/big/declared", new ByteArrayContent(new byte[ArtifactSilo.MaxSize + 1]));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);
        Assert.Contains("Platform:Artifacts:MaxSize", await declared.Content.ReadAsStringAsync());

        using var streamed = await Http.PutAsync("/v1/artifacts/big/streamed", new UnsizedContent(ArtifactSilo.MaxSize + (1 << 20)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);

        using var exact = await Http.PutAsync("/v1/artifacts/big/exact", new UnsizedContent(ArtifactSilo.MaxSize));
        Assert.Equal(HttpStatusCode.Created, exact.StatusCode);

        var list = await Http.GetFromJsonAsync<JsonElement>("/v1/artifacts?prefix=big/");
        Assert.Equal(["big/exact"], list.EnumerateArray().Select(a => a.GetProperty("name").GetString()));
        Assert.Empty(Directory.GetFiles(Path.Combine(fixture.DataDir, "artifacts", "tmp")));
    }

    [Theory]
    [InlineData("/v1/artifacts/a/../b", "'..' segment")]
    [InlineData("/v1/artifacts/a//b", "empty segment")]
    [InlineData("/v1/artifacts/a/b/", "empty segment")]
    [InlineData("/v1/artifacts/a/%01b", "control character")]
    [InlineData("/v1/artifacts/a%5Cb", "separate segments with '/'")]
    public async Task Bad_names_answer_400_naming_the_name(string target, string reason)
    {
        var answer = await RawHttp.SendAsync(fixture.Silo.Http.BaseAddress!, "PUT", target, "x", "application/octet-stream");
        Assert.Equal(400, answer.Status);
        Assert.Contains("artifact name", answer.Body);
        Assert.Contains(reason, answer.Body);
    }

    [Fact]
    public async Task Name_over_512_bytes_answers_400()
    {
        using var put = await Http.PutAsync("/v1/artifacts/" + new string('n', 513), new ByteArrayContent([1]));
        Assert.Equal(HttpStatusCode.BadRequest, put.StatusCode);
        Assert.Contains("longer than 512 bytes", await put.Content.ReadAsStringAsync());
        using var fits = await Http.PutAsync("/v1/artifacts/" + new string('n', 512), new ByteArrayContent([1]));
        Assert.Equal(HttpStatusCode.Created, fits.StatusCode);
    }

    [Fact]
    public async Task Checksum_that_does_not_match_answers_400_and_stores_nothing()
    {
        var bytes = RandomBytes(500_000);
        var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
        using var wrong = new HttpRequestMessage(HttpMethod.Put, "/v1/artifacts/sum/app") { Content = new ByteArrayContent(bytes) };
        wrong.Headers.Add("X-Checksum-Sha256", new string('a', 64));
        using var refused = await Http.SendAsync(wrong);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains(sha, await refused.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/v1/artifacts/sum/app")).StatusCode);

        using var malformed = await Http.PutAsync("/v1/artifacts/sum/app?sha256=xyz", new ByteArrayContent(bytes));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("?sha256=", await malformed.Content.ReadAsStringAsync());

        using var right = await Http.PutAsync($"/v1/artifacts/sum/app?sha256={sha.ToUpperInvariant()}", new ByteArrayContent(bytes));
        Assert.Equal(HttpStatusCode.Created, right.StatusCode);
    }

    [Fact]
    public async Task List_by_prefix_and_delete()
    {
        foreach (var name in new[] { "ls/a/1", "ls/a/2", "ls/b/1", "lsx" })
            (await Http.PutAsync("/v1/artifacts/" + name, new ByteArrayContent([1, 2, 3]))).EnsureSuccessStatusCode();

        var underA = await Http.GetFromJsonAsync<JsonElement>("/v1/artifacts?prefix=ls/a/");
        Assert.Equal(["ls/a/1", "ls/a/2"], underA.EnumerateArray().Select(a => a.GetProperty("name").GetString()));

        Assert.Equal(HttpStatusCode.NoContent, (await Http.DeleteAsync("/v1/artifacts/ls/a/1")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await Http.GetAsync("/v1/artifacts/ls/a/1")).StatusCode);
        var gone = await Http.DeleteAsync("/v1/artifacts/ls/a/1");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.Contains("ls/a/1", await gone.Content.ReadAsStringAsync());
        var under = await Http.GetFromJsonAsync<JsonElement>("/v1/artifacts?prefix=ls/");
        Assert.Equal(["ls/a/2", "ls/b/1"], under.EnumerateArray().Select(a => a.GetProperty("name").GetString()));
    }

    private static int CountBlobsOf(JsonElement list) => list.GetArrayLength();

    private static byte[] RandomBytes(int size)
    {
        var bytes = new byte[size];
        Random.Shared.NextBytes(bytes);
        return bytes;
    }
}
