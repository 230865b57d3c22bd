using System.Net;
using System.Text;
using System.Text.Json;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// Bad and unusual input over raw HTTP. Where etcd has an answer, the subject must give the same one (status,
/// errorCode, message, cause; or for a success the action and node) and leave the same keys behind. Where
/// Platform deliberately differs (src/Grains/Keys/README.md), each server is held to its own documented answer.
/// </summary>
[Collection(EtcdCompatCollection.Name)]
public sealed class KeysHttpInputTests(EtcdCompatFixture fixture, ITestOutputHelper output)
{
    private const int OneMiB = 1 << 20;

    // Each case runs under its own prefix holding a key "file" (value "one") and an empty directory "dir".
    [Theory]
    [InlineData("wait-on-put", "PUT", "/file?wait=true", "value=x")]
    [InlineData("ttl-not-a-number", "PUT", "/file", "value=x&ttl=abc")]
    [InlineData("ttl-negative", "PUT", "/file", "value=x&ttl=-1")]
    [InlineData("ttl-fraction", "PUT", "/file", "value=x&ttl=1.5")]
    [InlineData("ttl-empty-on-create", "PUT", "/new", "value=x&ttl=")]
    [InlineData("prev-index-not-a-number", "PUT", "/file", "value=x&prevIndex=abc")]
    [InlineData("prev-index-not-a-number-on-delete", "DELETE", "/file?prevIndex=abc", null)]
    [InlineData("wait-index-not-a-number", "GET", "/file?wait=true&waitIndex=abc", null)]
    [InlineData("prev-exist-not-a-bool", "PUT", "/file", "value=x&prevExist=maybe")]
    [InlineData("recursive-not-a-bool", "GET", "/file?recursive=maybe", null)]
    [InlineData("prev-value-empty", "PUT", "/file", "value=x&prevValue=")]
    [InlineData("refresh-with-value", "PUT", "/file", "refresh=true&ttl=60&prevExist=true&value=x")]
    [InlineData("refresh-without-ttl", "PUT", "/file", "refresh=true&prevExist=true")]
    [InlineData("cas-value-on-directory", "PUT", "/dir", "value=x&prevValue=one")]
    [InlineData("cas-index-on-directory", "PUT", "/dir", "value=x&prevIndex=1")]
    [InlineData("cad-value-on-directory", "DELETE", "/dir?prevValue=one", null)]
    [InlineData("value-on-directory", "PUT", "/dir", "value=x")]
    [InlineData("delete-directory-without-dir", "DELETE", "/dir", null)]
    [InlineData("key-below-a-file", "PUT", "/file/child", "value=x")]
    [InlineData("post-below-a-file", "POST", "/file", "value=x")]
    [InlineData("dir-true-over-a-file", "PUT", "/file", "dir=true")]
    [InlineData("form-bad-escape", "PUT", "/file", "value=%zz")]
    [InlineData("form-json-body", "PUT", "/file", "{\"value\":\"x\"}", "application/json")]
    [InlineData("value-in-query-string", "PUT", "/file?value=x", null)]
    [InlineData("wait-index-without-wait", "GET", "/file?waitIndex=1", null)]
    [InlineData("put-root", "PUT", "ROOT", "value=x")]
    [InlineData("delete-root", "DELETE", "ROOT?recursive=true", null)]
    [InlineData("unsupported-method", "PATCH", "/file", "value=x")]
    public async Task Answer_and_resulting_keys_match_etcd(string name, string method, string path, string? body, string contentType = RawHttp.Form)
    {
        var prefix = $"/compat/input/{name}";
        var bases = await SetUpAsync(prefix);
        var target = path.StartsWith("ROOT", StringComparison.Ordinal) ? "/v2/keys/" + path["ROOT".Length..] : $"/v2/keys{prefix}{path}";
        var answers = await Task.WhenAll(fixture.Servers.Select(s => RawHttp.SendAsync(s.Url, method, target, body, contentType)));
        output.WriteLine($"{method} {target} {body}\n  {fixture.Reference.Name}: {answers[0]}\n  {fixture.Subject.Name}: {answers[1]}");
        AssertSameAnswer($"{method} {target} {body}", answers, bases);

        var trees = await Task.WhenAll(fixture.Servers.Select((s, i) => TreeAsync(s, prefix, bases[i])));
        Assert.True(trees[0] == trees[1], $"after {method} {target} {body} the keys differ:\n{fixture.Reference.Name}:\n{trees[0]}\n{fixture.Subject.Name}:\n{trees[1]}");
    }

    // etcd ignores parameters it does not know; Platform refuses them (a misspelt prevExist would otherwise turn a
    // create into an overwrite), with 209 naming the parameter, and changes nothing.
    [Theory]
    [InlineData("PUT", "/file", "value=x&prevexist=false")]
    [InlineData("GET", "/file?bogus=1", null)]
    public async Task Unknown_parameter_is_refused_by_Platform_with_209_naming_it_and_nothing_changes(string method, string path, string? body)
    {
        var prefix = "/compat/input/unknown-" + method.ToLowerInvariant();
        var server = fixture.Servers.Single(s => s.IsPlatform);
        Assert.Equal(201, (await RawHttp.SendAsync(server.Url, "PUT", $"/v2/keys{prefix}/file", "value=one")).Status);
        var answer = await RawHttp.SendAsync(server.Url, method, $"/v2/keys{prefix}{path}", body);
        Assert.Equal(400, answer.Status);
        var error = ErrorOf(server, answer);
        Assert.Equal(209, error.Code);
        var cause = JsonDocument.Parse(answer.Body).RootElement.GetProperty("cause").GetString();
        Assert.StartsWith(path.Contains("bogus") ? "unknown parameter \"bogus\"" : "unknown parameter \"prevexist\"", cause);
        var value = JsonDocument.Parse(await server.Http.GetStringAsync($"/v2/keys{prefix}/file")).RootElement.GetProperty("node").GetProperty("value").GetString();
        Assert.Equal("one", value);
    }

    // etcd path.Cleans keys (its router answers 301 to the clean path) and keeps control characters; Platform
    // gives every key one spelling and refuses the rest with 210 (src/Grains/Keys/README.md).
    [Theory]
    [InlineData("dot-dot", "/a/../b", "/b")]
    [InlineData("dot-dot-escaped", "/a/%2E%2E/b", "/b")]
    [InlineData("dot", "/a/./b", "/a/b")]
    [InlineData("empty-segment", "/a//b", "/a/b")]
    [InlineData("control-character", "/a%01b", null)]
    public async Task Path_that_etcd_would_clean_is_refused_by_Platform_with_210_and_nothing_is_stored(string name, string path, string? cleaned)
    {
        var prefix = $"/compat/paths/{name}";
        foreach (var server in fixture.Servers)
        {
            var answer = await RawHttp.SendAsync(server.Url, "PUT", $"/v2/keys{prefix}{path}", "value=x");
            output.WriteLine($"{server.Name}: PUT {prefix}{path} -> {answer}");
            var stored = await server.Http.GetAsync($"/v2/keys{prefix}?recursive=true");
            if (server.IsPlatform)
            {
                Assert.Equal(400, answer.Status);
                var error = ErrorOf(server, answer);
                Assert.Equal(210, error.Code);
                Assert.Equal("Invalid POST form", error.Message);
                Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
            }
            else if (cleaned is null)
            {
                Assert.Equal(201, answer.Status);
                Assert.Equal(HttpStatusCode.OK, stored.StatusCode);
            }
            else
            {
                Assert.Equal(301, answer.Status);
                Assert.Equal($"/v2/keys{prefix}{cleaned}", answer.Headers["Location"]);
                Assert.Equal(HttpStatusCode.NotFound, stored.StatusCode);
            }
        }
    }

    // etcd stores values of any size its request limit lets through; Platform refuses values over 1 MiB
    // (Platform:Keys:MaxValueBytes) with 209 naming the key and the sizes.
    [Fact]
    public async Task Value_over_1_MiB_is_refused_by_Platform_with_an_etcd_error_and_the_old_value_stays()
    {
        var key = "/v2/keys/compat/limits/big";
        var big = "value=" + new string('a', OneMiB + 1);
        foreach (var server in fixture.Servers)
        {
            Assert.Equal(201, (await RawHttp.SendAsync(server.Url, "PUT", key, "value=old")).Status);
            var answer = await RawHttp.SendAsync(server.Url, "PUT", key, big);
            output.WriteLine($"{server.Name}: PUT {OneMiB + 1} bytes -> {answer}");
            var value = JsonDocument.Parse(await server.Http.GetStringAsync(key)).RootElement.GetProperty("node").GetProperty("value").GetString();
            if (server.IsPlatform)
            {
                Assert.Equal(400, answer.Status);
                var error = ErrorOf(server, answer);
                Assert.Equal(209, error.Code);
                Assert.Contains($"is {OneMiB + 1} bytes; the limit is {OneMiB} bytes", answer.Body);
                Assert.Equal("old", value);
            }
            else
            {
                Assert.Equal(200, answer.Status);
                Assert.Equal(OneMiB + 1, value?.Length);
            }
        }
    }

    [Fact]
    public async Task Version_and_members_answer_like_etcd_and_members_point_back_at_the_server()
    {
        foreach (var server in fixture.Servers)
        {
            var version = JsonDocument.Parse(await server.Http.GetStringAsync("/version")).RootElement;
            Assert.Equal(JsonValueKind.String, version.GetProperty("etcdserver").ValueKind);
            Assert.Equal(JsonValueKind.String, version.GetProperty("etcdcluster").ValueKind);

            // etcdctl (without --no-sync) asks for the members and then talks to their clientURLs.
            var members = JsonDocument.Parse(await server.Http.GetStringAsync("/v2/members")).RootElement.GetProperty("members");
            var member = Assert.Single(members.EnumerateArray());
            Assert.False(string.IsNullOrEmpty(member.GetProperty("id").GetString()));
            Assert.Equal(JsonValueKind.String, member.GetProperty("name").ValueKind);
            Assert.NotEmpty(member.GetProperty("peerURLs").EnumerateArray());
            var clientUrl = new Uri(Assert.Single(member.GetProperty("clientURLs").EnumerateArray()).GetString()!);
            using var http = KeysServer.NewClient(clientUrl);
            using var keys = await http.GetAsync("/v2/keys/");
            Assert.Equal(HttpStatusCode.OK, keys.StatusCode);
            Assert.True(keys.Headers.Contains("X-Etcd-Index"), $"{server.Name}: {clientUrl}v2/keys/ has no X-Etcd-Index");
        }
    }

    /// <summary>Creates prefix/file = one and the empty directory prefix/dir on both servers; returns each store's index before.</summary>
    private async Task<long[]> SetUpAsync(string prefix)
    {
        var bases = await Task.WhenAll(fixture.Servers.Select(s => s.CurrentIndexAsync()));
        foreach (var server in fixture.Servers)
        {
            Assert.Equal(201, (await RawHttp.SendAsync(server.Url, "PUT", $"/v2/keys{prefix}/file", "value=one")).Status);
            Assert.Equal(201, (await RawHttp.SendAsync(server.Url, "PUT", $"/v2/keys{prefix}/dir", "dir=true")).Status);
        }
        return bases;
    }

    private static void AssertSameAnswer(string request, RawResponse[] answers, long[] bases)
    {
        var (reference, subject) = (answers[0], answers[1]);
        var differences = new List<string>();
        if (reference.Status != subject.Status) differences.Add($"status {reference.Status} != {subject.Status}");
        if (reference.Json is { ValueKind: JsonValueKind.Object } r)
        {
            var s = subject.Json;
            var fields = r.TryGetProperty("errorCode", out _) ? new[] { "errorCode", "message", "cause" } : ["action", "node", "prevNode"];
            foreach (var field in fields)
            {
                var (a, b) = (Canonical(r, field, bases[0]), s is { ValueKind: JsonValueKind.Object } o ? Canonical(o, field, bases[1]) : "(not JSON)");
                if (a != b) differences.Add($"{field}: {a} != {b}");
            }
            if (reference.Headers.ContainsKey("X-Etcd-Index") && !subject.Headers.ContainsKey("X-Etcd-Index")) differences.Add("no X-Etcd-Index header");
        }
        if (differences.Count > 0)
            throw new XunitException($"{request}:\n  {string.Join("\n  ", differences)}\n  etcd:    {reference}\n  subject: {subject}");
    }

    /// <summary>A field as canonical JSON (members sorted, indexes relative to the store's index before the test), "(absent)" when missing.</summary>
    private static string Canonical(JsonElement json, string field, long baseIndex) =>
        json.TryGetProperty(field, out var value) ? Canonical(value, baseIndex) : "(absent)";

    private static string Canonical(JsonElement json, long baseIndex) => json.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", json.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"\"{p.Name}\":" + p.Name switch
        {
            "createdIndex" or "modifiedIndex" when p.Value.ValueKind == JsonValueKind.Number => "@" + (p.Value.GetInt64() - baseIndex),
            "expiration" => "<time>",
            _ => Canonical(p.Value, baseIndex),
        })) + "}",
        JsonValueKind.Array => "[" + string.Join(",", json.EnumerateArray().Select(e => Canonical(e, baseIndex))) + "]",
        _ => json.GetRawText(),
    };

    /// <summary>Every key under the prefix, sorted, with value or directory mark and relative indexes.</summary>
    private static async Task<string> TreeAsync(IKeysServer server, string prefix, long baseIndex)
    {
        using var response = await server.Http.GetAsync($"/v2/keys{prefix}?recursive=true&sorted=true");
        var text = new StringBuilder();
        if (response.StatusCode != HttpStatusCode.OK) return $"({(int)response.StatusCode})";
        void Walk(JsonElement node)
        {
            var dir = node.TryGetProperty("dir", out var d) && d.GetBoolean();
            text.Append(node.GetProperty("key").GetString()).Append(dir ? "/" : " = " + node.GetProperty("value").GetString())
                .Append(" created @").Append(node.GetProperty("createdIndex").GetInt64() - baseIndex)
                .Append(" modified @").Append(node.GetProperty("modifiedIndex").GetInt64() - baseIndex).Append('\n');
            if (node.TryGetProperty("nodes", out var children))
                foreach (var child in children.EnumerateArray().OrderBy(c => c.GetProperty("key").GetString(), StringComparer.Ordinal))
                    Walk(child);
        }
        Walk(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("node"));
        return text.ToString();
    }

    private static (int Code, string Message) ErrorOf(IKeysServer server, RawResponse answer)
    {
        if (answer.Json is not { ValueKind: JsonValueKind.Object } json || !json.TryGetProperty("errorCode", out var code))
            throw new XunitException($"{server.Name}: not an etcd error body: {answer}");
        return (code.GetInt32(), json.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "");
    }
}
