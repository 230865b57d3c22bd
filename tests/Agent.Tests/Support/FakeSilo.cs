using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Https;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Platform.Protocol;

namespace Platform.Agent.Tests.Support;

/// <summary>
/// A real Kestrel WebSocket server speaking the silo's side of the agent protocol (docs/nodes.md), scripted by the
/// test: it welcomes or refuses hellos, answers pings, records every frame and can close or abort the connection.
/// </summary>
internal sealed class FakeSilo : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<AgentFrame> _received = new();
    private readonly ConcurrentQueue<HelloFrame> _hellos = new();
    private HttpContext? _context;

    /// <summary>Guards <see cref="_context"/>: a context is aborted only while its request runs (a finished one is recycled).</summary>
    private readonly Lock _contextLock = new();
    private volatile WebSocket? _socket;
    private int _connections;

    /// <summary>The close <see cref="CloseAsync"/> is sending, and on which socket.</summary>
    private volatile Closing? _closing;

    /// <summary>Completes once the current connection's welcome is sent.</summary>
    private volatile Task _welcomed = Task.CompletedTask;

    private sealed record Closing(WebSocket Socket, Task Sent);

    private FakeSilo(WebApplication app, string name)
    {
        _app = app;
        Name = name;
    }

    public string Name { get; }

    public Uri Url { get; private set; } = null!;

    /// <summary>What the silo answers a hello with: a welcome by default.</summary>
    public Func<HelloFrame, AgentFrame> OnHello { get; set; } = null!;

    public List<MemberInfo> Members { get; } = [];

    public bool AnswerPings { get; set; } = true;

    /// <summary>The welcome's <c>pong_after_ms</c> (0: the silo answers every ping).</summary>
    public int PongAfterMs { get; set; }

    public int HeartbeatIntervalMs { get; set; } = 1000;

    public int Connections => Volatile.Read(ref _connections);

    /// <summary>An agent is connected and its welcome sent.</summary>
    public bool IsConnected => _socket is { State: WebSocketState.Open } && _welcomed.IsCompleted;

    public IReadOnlyList<AgentFrame> Received => [.. _received];

    public IReadOnlyList<HelloFrame> Hellos => [.. _hellos];

    /// <summary>The status of each close frame an agent sent (0: a close without one).</summary>
    public ConcurrentQueue<int> CloseStatuses { get; } = new();

    /// <summary>Artifacts stored through <c>PUT /v1/artifacts/{build_id}/{path}</c>, by name (build_id/path), as received.</summary>
    public ConcurrentDictionary<string, byte[]> Artifacts { get; } = new();

    /// <summary>The Authorization headers of artifact uploads.</summary>
    public ConcurrentQueue<string> ArtifactAuthorizations { get; } = new();

    /// <summary>The client certificate subjects seen (HTTPS silos only).</summary>
    public ConcurrentQueue<string> ClientCertificates { get; } = new();

    /// <summary>Starts on a free loopback port; with <paramref name="certificate"/> it serves HTTPS and requires a client certificate.</summary>
    public static async Task<FakeSilo> StartAsync(string name = "silo-1", X509Certificate2? certificate = null)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0, listen =>
        {
            if (certificate is null) return;
            listen.UseHttps(https =>
            {
                https.ServerCertificate = certificate;
                https.ClientCertificateMode = ClientCertificateMode.RequireCertificate;
                https.ClientCertificateValidation = (_, _, _) => true;
            });
        }));
        var app = builder.Build();
        var silo = new FakeSilo(app, name);
        silo.OnHello = silo.Welcome;
        app.UseWebSockets();
        app.Map(AgentProtocol.ConnectPath, silo.AcceptAsync);
        app.MapPut("/v1/artifacts/{**name}", silo.StoreArtifactAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        silo.Url = new Uri(address);
        return silo;
    }

    public WelcomeFrame Welcome(HelloFrame hello)
    {
        var self = new MemberInfo(hello.Name, hello.Addr, hello.Port, hello.Tags, "alive", hello.Protocol);
        var members = new List<MemberInfo>(Members);
        members.RemoveAll(m => m.Name == hello.Name);
        members.Add(self);
        return new WelcomeFrame(self, members, HeartbeatIntervalMs, HeartbeatIntervalMs * 3, Name, PongAfterMs);
    }

    public async Task SendAsync(AgentFrame frame)
    {
        var socket = _socket ?? throw new InvalidOperationException("no agent is connected");
        await _welcomed;
        await socket.SendAsync(AgentProtocol.Encode(frame), WebSocketMessageType.Text, true, CancellationToken.None);
    }

    public Task MemberEventAsync(string type, MemberInfo member) => SendAsync(new MemberEventFrame(type, member));

    public async Task CloseAsync(int status, string description = "")
    {
        var socket = _socket ?? throw new InvalidOperationException("no agent is connected");
        _socket = null;
        await _welcomed;
        var sent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _closing = new Closing(socket, sent.Task);
        try
        {
            await socket.CloseOutputAsync((WebSocketCloseStatus)status, description, CancellationToken.None);
            sent.SetResult();
        }
        catch (Exception e)
        {
            sent.SetException(e);
            throw;
        }
    }

    /// <summary>Resets the TCP connection (a crashed silo).</summary>
    public void Abort()
    {
        _socket = null;
        lock (_contextLock)
        {
            _context?.Abort();
            _context = null;
        }
    }

    public IEnumerable<T> ReceivedOf<T>() where T : AgentFrame => Received.OfType<T>();

    /// <summary>The artifact store's contract: the raw body stored under build_id/path, answered with name, size and SHA-256.</summary>
    private async Task StoreArtifactAsync(HttpContext context, string name)
    {
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        var bytes = body.ToArray();
        Artifacts[name] = bytes;
        ArtifactAuthorizations.Enqueue(context.Request.Headers.Authorization.ToString());
        await context.Response.WriteAsJsonAsync(new JobArtifact(name, bytes.Length, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes))));
    }

    private async Task AcceptAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest || !context.WebSockets.WebSocketRequestedProtocols.Contains(AgentProtocol.SubProtocol))
        {
            context.Response.StatusCode = 400;
            return;
        }
        if (context.Connection.ClientCertificate is { } client) ClientCertificates.Enqueue(client.Subject);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(AgentProtocol.SubProtocol);
        Interlocked.Increment(ref _connections);
        var buffer = new byte[64 * 1024];
        try
        {
            if (await ReceiveAsync(socket, buffer) is not HelloFrame hello) return;
            _hellos.Enqueue(hello);
            _received.Enqueue(hello);
            var answer = OnHello(hello);
            if (answer is RefusedFrame)
            {
                await socket.SendAsync(AgentProtocol.Encode(answer), WebSocketMessageType.Text, true, CancellationToken.None);
                await socket.CloseOutputAsync((WebSocketCloseStatus)AgentProtocol.RefusedCloseStatus, "refused", CancellationToken.None);
                return;
            }
            // Before the welcome goes out: an agent that has read it may be closed by the test at once. What the test
            // sends waits for the welcome, which must be the agent's first frame.
            var welcomed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            _welcomed = welcomed.Task;
            lock (_contextLock) _context = context;
            _socket = socket;
            try
            {
                await socket.SendAsync(AgentProtocol.Encode(answer), WebSocketMessageType.Text, true, CancellationToken.None);
            }
            finally
            {
                welcomed.SetResult();
            }
            while (true)
            {
                var frame = await ReceiveAsync(socket, buffer);
                if (frame is null)
                {
                    CloseStatuses.Enqueue((int?)socket.CloseStatus ?? 0);
                    return;
                }
                _received.Enqueue(frame);
                switch (frame)
                {
                    case PingFrame ping when AnswerPings:
                        await socket.SendAsync(AgentProtocol.Encode(new PongFrame(ping.Seq)), WebSocketMessageType.Text, true, CancellationToken.None);
                        break;
                    case LeaveFrame:
                        _socket = null;
                        await socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "left", CancellationToken.None);
                        return;
                }
            }
        }
        catch (Exception e) when (e is WebSocketException or IOException or OperationCanceledException or ConnectionAbortedException)
        {
            // The agent went away or the test aborted the connection.
        }
        finally
        {
            // The agent answers a close at once, and its answer ends this loop: the request must outlive the close
            // frame's send, or Kestrel completes the response under it.
            if (_closing is { } closing && ReferenceEquals(closing.Socket, socket))
                await closing.Sent.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (ReferenceEquals(_socket, socket)) _socket = null;
            lock (_contextLock)
                if (ReferenceEquals(_context, context)) _context = null;
        }
    }

    private static async Task<AgentFrame?> ReceiveAsync(WebSocket socket, byte[] buffer)
    {
        var count = 0;
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer.AsMemory(count), CancellationToken.None);
            if (result.MessageType == WebSocketMessageType.Close) return null;
            count += result.Count;
            if (result.EndOfMessage) return AgentProtocol.Decode(buffer.AsSpan(0, count));
        }
    }

    public async ValueTask DisposeAsync()
    {
        Abort();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
