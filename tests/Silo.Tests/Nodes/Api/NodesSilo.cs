using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>One real silo shared by a test class; every test uses node names of its own.</summary>
public class NodesSilo : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    public SiloProcess Silo { get; private set; } = null!;

    public HttpClient Http => Silo.Http;

    public int Port => Silo.Port;

    /// <summary>Settings added to the silo's command line.</summary>
    protected virtual string[] SiloArgs => [];

    public async Task InitializeAsync() => Silo = await SiloProcess.StartAsync(_dir.Path, null, SiloArgs);

    public async Task DisposeAsync()
    {
        await Silo.DisposeAsync();
        _dir.Dispose();
    }
}

/// <summary>
/// A shared silo for tests of work on agents rather than of failure detection: a 5 s heartbeat timeout, so that a busy
/// machine's late pings do not fail an agent in the middle of a test (a crashed agent is still failed at once).
/// </summary>
public sealed class BuildsSilo : NodesSilo
{
    protected override string[] SiloArgs => ["--Platform:Nodes:HeartbeatTimeout", "00:00:05"];
}

/// <summary>Reads of the nodes API shared by the tests.</summary>
internal static class NodesHttp
{
    public static async Task<JsonElement?> NodeAsync(HttpClient http, string name)
    {
        using var r = await http.GetAsync($"/v1/nodes/{name}");
        if (r.StatusCode == System.Net.HttpStatusCode.NotFound) return null;
        r.EnsureSuccessStatusCode();
        return JsonDocument.Parse(await r.Content.ReadAsStringAsync()).RootElement.Clone();
    }

    public static async Task<string?> StatusAsync(HttpClient http, string name) => (await NodeAsync(http, name))?.GetProperty("status").GetString();

    /// <summary>Polls the node's status until it is <paramref name="status"/>; returns how long that took.</summary>
    public static async Task<TimeSpan> WaitForStatusAsync(HttpClient http, string name, string status, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        string? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                last = await StatusAsync(http, name);
            }
            catch (HttpRequestException e) when (e.StatusCode == System.Net.HttpStatusCode.ServiceUnavailable)
            {
                // The silo that held the node's grain just died: the API says retry until the grain has moved.
                last = "(503: retry)";
            }
            if (last == status) return clock.Elapsed;
            await Task.Delay(20);
        }
        throw new TimeoutException($"node {name} is '{last}', not '{status}', after {timeout.TotalSeconds} s");
    }

    public static async Task<ulong> FireAsync(HttpClient http, string name, string payload)
    {
        using var r = await http.PostAsync($"/v1/events/{name}", new StringContent(payload));
        var body = await r.Content.ReadAsStringAsync();
        Assert.True(r.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.GetProperty("lTime").GetUInt64();
    }

    public static async Task<(int Status, string Error)> ErrorAsync(HttpResponseMessage r)
    {
        var body = await r.Content.ReadAsStringAsync();
        using var doc = JsonDocument.Parse(body);
        return ((int)r.StatusCode, doc.RootElement.GetProperty("error").GetString()!);
    }

    public static Task<HttpResponseMessage> PutTagsAsync(HttpClient http, string name, object body) => http.PutAsJsonAsync($"/v1/nodes/{name}/tags", body);
}
