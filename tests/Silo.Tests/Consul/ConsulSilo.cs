using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Consul;

[CollectionDefinition(Name)]
public sealed class ConsulCollection : ICollectionFixture<ConsulSilo>
{
    public const string Name = "consul";
}

/// <summary>One silo process for the Consul tests (each test keeps to its own key prefix), and /v1/kv helpers.</summary>
public sealed class ConsulSilo : IAsyncLifetime
{
    private readonly TempDir _dir = new();

    public SiloProcess Silo { get; private set; } = null!;

    public HttpClient Http => Silo.Http;

    /// <summary>The keyspace's history window: small, so a test can outrun it with a few writes.</summary>
    public const int HistoryCapacity = 100;

    public async Task InitializeAsync() =>
        Silo = await SiloProcess.StartAsync(_dir.Path, null, "--Platform:Keys:HistoryCapacity", HistoryCapacity.ToString(CultureInfo.InvariantCulture));

    public async Task DisposeAsync()
    {
        if (Silo is not null) await Silo.DisposeAsync();
        _dir.Dispose();
    }

    public Task<KvReply> Get(string keyAndQuery, CancellationToken cancellationToken = default) => Send(HttpMethod.Get, keyAndQuery, null, cancellationToken);

    public Task<KvReply> Put(string keyAndQuery, string value = "") => Send(HttpMethod.Put, keyAndQuery, new StringContent(value));

    public Task<KvReply> Put(string keyAndQuery, byte[] value) => Send(HttpMethod.Put, keyAndQuery, new ByteArrayContent(value));

    public Task<KvReply> Delete(string keyAndQuery) => Send(HttpMethod.Delete, keyAndQuery, null);

    public async Task<KvReply> Send(HttpMethod method, string keyAndQuery, HttpContent? content, CancellationToken cancellationToken = default)
    {
        using var request = new HttpRequestMessage(method, "/v1/kv/" + keyAndQuery) { Content = content };
        using var response = await Http.SendAsync(request, cancellationToken);
        return await KvReply.ReadAsync(response);
    }

    /// <summary>
    /// Sends a request target exactly as given (HttpClient would resolve dot segments such as <c>%2E%2E</c>); answers
    /// the status and the body.
    /// </summary>
    public async Task<(HttpStatusCode Status, string Body)> SendRaw(string method, string target)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, Silo.Port);
        var stream = client.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"));
        var text = await new StreamReader(stream, Encoding.UTF8).ReadToEndAsync();
        var status = (HttpStatusCode)int.Parse(text.Split(' ', 3)[1], CultureInfo.InvariantCulture);
        return (status, text[(text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4)..]);
    }

    /// <summary>The watches waiting on the silo (etcd watches and blocking queries), from <c>GET /v1/cluster</c>.</summary>
    public async Task<int> KeyWatches()
    {
        using var doc = JsonDocument.Parse(await Http.GetStringAsync("/v1/cluster"));
        return doc.RootElement.GetProperty("keyWatches").GetInt32();
    }

    /// <summary>The keyspace's index, as etcd's API reports it: it moves with every write, through either API.</summary>
    public async Task<ulong> KeyspaceIndex()
    {
        using var response = await Http.GetAsync("/v2/keys/");
        return ulong.Parse(response.Headers.GetValues("X-Etcd-Index").Single(), CultureInfo.InvariantCulture);
    }
}

/// <summary>A /v1/kv answer: status, body, <c>X-Consul-Index</c> and the other headers.</summary>
public sealed record KvReply(HttpStatusCode Status, string Body, ulong Index, string? ContentType, IReadOnlyDictionary<string, string> Headers)
{
    public static async Task<KvReply> ReadAsync(HttpResponseMessage response)
    {
        var headers = response.Headers.Concat(response.Content.Headers).ToDictionary(h => h.Key, h => string.Join(",", h.Value), StringComparer.OrdinalIgnoreCase);
        var index = headers.TryGetValue("X-Consul-Index", out var text) ? ulong.Parse(text, CultureInfo.InvariantCulture) : 0;
        return new KvReply(response.StatusCode, await response.Content.ReadAsStringAsync(), index, response.Content.Headers.ContentType?.ToString(), headers);
    }

    public JsonElement Json => JsonDocument.Parse(Body).RootElement.Clone();

    /// <summary>The single entry of a GET.</summary>
    public JsonElement Entry => Assert.Single(Json.EnumerateArray().ToArray());

    public string[] Keys => Json.EnumerateArray().Select(e => e.GetString()!).ToArray();

    /// <summary>The Key fields of a listing, in order.</summary>
    public string[] EntryKeys => Json.EnumerateArray().Select(e => e.GetProperty("Key").GetString()!).ToArray();

    public override string ToString() => $"{(int)Status} [X-Consul-Index {Index}] {Body}";
}
