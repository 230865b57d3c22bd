using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Nodes.Api;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Access;

/// <summary>
/// A real silo with tokens: an admin token made while it was open (which closes it), and helpers to make and revoke
/// tokens over HTTP and to run etcdctl and the <c>platform</c> command against it.
/// </summary>
public sealed class AccessSilo : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    public SiloProcess Silo { get; private set; } = null!;

    /// <summary>The admin token's secret.</summary>
    public string Admin { get; private set; } = "";

    public Uri Url => new($"http://127.0.0.1:{Silo.Port}");

    /// <summary>Every secret handed out, by what it is ("token 'admin'"): the silo's output is searched for them when it stops.</summary>
    public Dictionary<string, string> Secrets { get; } = [];

    /// <summary>Extra silo arguments (storage, log format, …).</summary>
    public string[] SiloArguments { get; init; } = [];

    public async Task InitializeAsync()
    {
        Silo = await SiloProcess.StartAsync(Path.Combine(_dir.Path, "data"), null, SiloArguments);
        Admin = await CreateAsAsync("admin", ["admin"], bearer: null, expiresIn: null);
    }

    public async Task DisposeAsync()
    {
        var output = Silo.Output;
        await Silo.DisposeAsync();
        _dir.Dispose();
        // Every class using this silo also checks that none of the tokens it made reached the silo's logs.
        SecretScan.AssertAbsent(Secrets, new Dictionary<string, string> { ["the silo's output"] = output });
    }

    /// <summary>Makes a token (as admin unless <paramref name="bearer"/> says otherwise) and returns its secret.</summary>
    public Task<string> CreateAsync(string name, string[] scopes, string? expiresIn = null) => CreateAsAsync(name, scopes, Admin, expiresIn);

    private async Task<string> CreateAsAsync(string name, string[] scopes, string? bearer, string? expiresIn)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/access/tokens") { Content = JsonContent.Create(new { name, scopes, expiresIn }) };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        using var response = await Silo.Http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Created, $"creating token {name}: {(int)response.StatusCode} {body}");
        var secret = JsonDocument.Parse(body).RootElement.GetProperty("secret").GetString()!;
        Secrets[$"token '{name}'"] = secret;
        // etcd clients send NAME:SECRET as basic auth: its base64 form must not be logged either.
        Secrets[$"token '{name}' as etcd basic auth"] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{name}:{secret}"));
        return secret;
    }

    public async Task RevokeAsync(string name)
    {
        using var response = await SendAsync(HttpMethod.Delete, $"/v1/access/tokens/{name}", Admin);
        Assert.True(response.IsSuccessStatusCode, $"revoking {name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
    }

    /// <summary>Sends a request with <paramref name="bearer"/> as its token (none when null).</summary>
    public Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? bearer, HttpContent? content = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return Silo.Http.SendAsync(request);
    }

    /// <summary>The audit log, newest last, as <c>actor action target</c> lines.</summary>
    public async Task<List<string>> AuditAsync()
    {
        using var audit = await SendAsync(HttpMethod.Get, "/v1/access/audit?limit=1000", Admin);
        var body = await audit.Content.ReadAsStringAsync();
        Assert.True(audit.IsSuccessStatusCode, body);
        return JsonDocument.Parse(body).RootElement.EnumerateArray()
            .Select(e => $"{e.GetProperty("actor").GetString()} {e.GetProperty("action").GetString()} {e.GetProperty("target").GetString()}").ToList();
    }

    /// <summary>
    /// Reads the audit log until it holds every one of <paramref name="expected"/>: work started by a rule or a hook is
    /// recorded once it has started, which may be just after its effects are seen elsewhere.
    /// </summary>
    public async Task<List<string>> AuditHoldsAsync(params string[] expected)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var entries = await AuditAsync();
            var missing = expected.Where(e => !entries.Contains(e)).ToList();
            if (missing.Count == 0) return entries;
            if (clock.Elapsed > TimeSpan.FromSeconds(30))
                Assert.Fail($"the audit log lacks {string.Join("; ", missing)} after 30 s; it holds: {string.Join("; ", entries)}");
            await Task.Delay(50);
        }
    }

    /// <summary>An agent connected with a token of scope <c>agent</c>, once its node is alive (deploys and queries reach it then).</summary>
    internal async Task<RawAgent> ConnectNodeAsync(string node, bool answerQueries = false)
    {
        var token = await CreateAsync($"{node}-agent", ["agent"]);
        var agent = await RawAgent.ConnectAsync(Silo.Port, RawAgent.NewHello(node), answerQueries, token);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            using var response = await SendAsync(HttpMethod.Get, $"/v1/nodes/{node}", Admin);
            if (response.IsSuccessStatusCode && (await response.Content.ReadAsStringAsync()).Contains("\"status\":\"alive\"", StringComparison.Ordinal)) return agent;
            Assert.True(DateTime.UtcNow < deadline, $"node {node} never became alive");
            await Task.Delay(50);
        }
    }

    /// <summary>etcdctl v2 with <c>--username NAME:SECRET</c> (none when <paramref name="user"/> is null).</summary>
    public Task<ProcessResult> EtcdctlAsync(string? user, params string[] args)
        => Etcdctl.RunAsync(Url, user is null ? args : ["--username", user, .. args], noSync: true);

    /// <summary>The real <c>platform</c> command against this silo; <paramref name="token"/> goes in PLATFORM_TOKEN (empty: none).</summary>
    public Task<ProcessResult> PlatformAsync(string token, params string[] args)
        => PlatformCommand.RunAsync(new Dictionary<string, string> { ["PLATFORM_URL"] = Url.ToString(), ["PLATFORM_TOKEN"] = token }, args);
}
