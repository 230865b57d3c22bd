using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Consul;

/// <summary>
/// The real <c>consul</c> npm client (pinned in Consul/node/package-lock.json) against a silo: installed with
/// <c>npm ci</c> (from npm's cache when it has the packages) into a temporary directory and run by Node.js, printing one JSON line per step.
/// </summary>
[Collection(ConsulCollection.Name)]
public sealed class ConsulClientTests(ConsulSilo kv)
{
    private static readonly string[] s_files = ["package.json", "package-lock.json", "consul-kv.js"];

    [Fact]
    public async Task The_consul_npm_client_writes_reads_compares_deletes_and_wakes_from_a_blocking_query()
    {
        using var dir = new TempDir();
        foreach (var file in s_files) File.Copy(Path.Combine(AppContext.BaseDirectory, "Consul", "node", file), Path.Combine(dir.Path, file));
        var (exitCode, npmOutput) = await NodeJs.RunAsync("npm", dir.Path, TimeSpan.FromMinutes(2), "ci", "--no-audit", "--no-fund", "--prefer-offline");
        Assert.True(exitCode == 0, $"npm ci exited with {exitCode}:\n{npmOutput}");

        var psi = new ProcessStartInfo("node") { WorkingDirectory = dir.Path, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in new[] { "consul-kv.js", kv.Silo.Port.ToString(CultureInfo.InvariantCulture), "client" }) psi.ArgumentList.Add(arg);
        using var node = NodeJs.Start(psi);
        var stderr = node.StandardError.ReadToEndAsync();
        var steps = new Dictionary<string, JsonElement>();
        var transcript = new StringBuilder();
        ulong changeIndex = 0;
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        try
        {
            while (await node.StandardOutput.ReadLineAsync(deadline.Token) is { } line)
            {
                transcript.AppendLine(line);
                var step = JsonDocument.Parse(line).RootElement.Clone();
                var name = step.GetProperty("step").GetString()!;
                steps[name] = step;
                if (name == "watching")
                {
                    // The client's watch is waiting on its blocking query: change the key under it.
                    changeIndex = (await kv.Put("client/watched", "v2")).Index;
                }
            }
            await node.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            node.Kill();
            Assert.Fail($"the client did not finish within 60 s:\n{transcript}{await stderr}");
        }
        Assert.True(node.ExitCode == 0 && !steps.ContainsKey("error"), $"the client exited with {node.ExitCode}:\n{transcript}{await stderr}");

        Assert.True(steps["set"].GetProperty("result").GetBoolean());
        var got = steps["get"];
        Assert.Equal("client/greeting", got.GetProperty("key").GetString());
        Assert.Equal("hello, wörld", got.GetProperty("value").GetString());
        Assert.Equal(7, got.GetProperty("flags").GetInt32());
        Assert.Equal(got.GetProperty("createIndex").GetUInt64(), got.GetProperty("modifyIndex").GetUInt64());
        Assert.False(steps["casWrong"].GetProperty("result").GetBoolean());
        Assert.True(steps["casRight"].GetProperty("result").GetBoolean());
        Assert.True(steps["createNew"].GetProperty("result").GetBoolean());
        Assert.False(steps["createAgain"].GetProperty("result").GetBoolean());
        // Only what was put is listed: not the directory "client/" that writing below it made.
        Assert.Equal(["client/greeting", "client/new"], Strings(steps["recurse"].GetProperty("keys")));
        Assert.Equal("""["fresh","n"]""", steps["recurse"].GetProperty("values").GetRawText());
        Assert.Equal(["client/greeting", "client/new"], Strings(steps["keys"].GetProperty("keys")));
        Assert.False(steps["implicitFolder"].GetProperty("found").GetBoolean());
        Assert.True(steps["putFolder"].GetProperty("result").GetBoolean());
        Assert.Equal(["client/folder/", "client/greeting", "client/new"], Strings(steps["recurseFolder"].GetProperty("keys")));
        Assert.Equal("""[null,"fresh","n"]""", steps["recurseFolder"].GetProperty("values").GetRawText());
        Assert.Equal(["client/folder/", "client/greeting", "client/new"], Strings(steps["keysFolder"].GetProperty("keys")));
        Assert.False(steps["delWrong"].GetProperty("result").GetBoolean());
        Assert.True(steps["delRight"].GetProperty("result").GetBoolean());
        Assert.False(steps["gone"].GetProperty("found").GetBoolean());
        Assert.True(steps["delMissing"].GetProperty("result").GetBoolean());

        var timeout = steps["timeout"];
        Assert.True(timeout.GetProperty("elapsedMs").GetInt32() >= 980, timeout.ToString());
        Assert.Equal(timeout.GetProperty("index").GetString(), timeout.GetProperty("after").GetString());

        Assert.Equal("v1", steps["watching"].GetProperty("value").GetString());
        var changed = steps["changed"];
        Assert.Equal("v2", changed.GetProperty("value").GetString());
        Assert.Equal(changeIndex.ToString(CultureInfo.InvariantCulture), changed.GetProperty("index").GetString());
        // The first read, then one blocking query that woke for the change: nothing spun in between.
        Assert.InRange(changed.GetProperty("calls").GetInt32(), 2, 3);
    }

    private static string[] Strings(JsonElement array) => array.EnumerateArray().Select(e => e.GetString()!).ToArray();
}
