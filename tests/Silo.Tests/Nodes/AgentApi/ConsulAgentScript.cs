using System.Diagnostics;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.AgentApi;

/// <summary>
/// The real <c>consul</c> npm client (pinned in Nodes/Consul/node/package-lock.json), installed with <c>npm ci</c> into a
/// temporary directory; <see cref="RunAsync"/> makes one call with it (consul-agent.js) and answers its JSON line.
/// </summary>
public sealed class ConsulAgentScript : IDisposable
{
    private static readonly string[] s_files = ["package.json", "package-lock.json", "consul-agent.js"];
    private readonly TempDir _dir;

    private ConsulAgentScript(TempDir dir) => _dir = dir;

    public static async Task<ConsulAgentScript> InstallAsync()
    {
        var dir = new TempDir();
        foreach (var file in s_files) File.Copy(Path.Combine(AppContext.BaseDirectory, "Nodes", "Consul", "node", file), Path.Combine(dir.Path, file));
        var (exitCode, output) = await NodeJs.RunAsync("npm", dir.Path, TimeSpan.FromMinutes(2), "ci", "--no-audit", "--no-fund", "--prefer-offline");
        if (exitCode != 0)
        {
            dir.Dispose();
            throw new InvalidOperationException($"npm ci exited with {exitCode}:\n{output}");
        }
        return new ConsulAgentScript(dir);
    }

    /// <summary>Runs <c>node consul-agent.js PORT ARGS…</c>; answers its line (<c>{"ok":true,"answer":…}</c> or <c>{"ok":false,"status":…,"message":…}</c>).</summary>
    public async Task<JsonElement> RunAsync(int port, params string[] args)
    {
        var (_, output) = await NodeJs.RunAsync("node", _dir.Path, TimeSpan.FromSeconds(60), ["consul-agent.js", port.ToString(System.Globalization.CultureInfo.InvariantCulture), .. args]);
        var line = output.Split('\n').FirstOrDefault(l => l.StartsWith('{'));
        Assert.True(line is not null, $"consul-agent.js {string.Join(' ', args)} printed no answer:\n{output}");
        return JsonDocument.Parse(line).RootElement.Clone();
    }

    public void Dispose() => _dir.Dispose();
}
