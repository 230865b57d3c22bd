using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging;
using Platform.Agent.Checks;
using Platform.Agent.Coalescing;
using Platform.Agent.Configuration;
using Platform.Agent.Connection;
using Platform.Agent.Handlers;
using Platform.Agent.State;
using Platform.Protocol;

namespace Platform.Agent;

/// <summary>
/// A node's agent: one connection to the silos, the member view, coalescing, exactly-once user events and the Serf-style
/// handlers. <see cref="StartAsync"/> connects; <see cref="Completion"/> ends when it leaves or is refused.
/// </summary>
public sealed partial class NodeAgent : IAsyncDisposable
{
    /// <summary>Handlers running at stop get this long to finish before they are killed (Serf left them running orphaned).</summary>
    public static readonly TimeSpan HandlerStopGrace = TimeSpan.FromSeconds(10);

    private readonly AgentSettings _settings;
    private readonly ILogger _logger;
    private readonly TimeProvider _time;
    private readonly MemberView _members = new();
    private readonly AppliedTracker _applied;
    private readonly HandlerDispatcher _dispatcher;
    private readonly MemberEventCoalescer? _memberCoalescer;
    private readonly UserEventCoalescer? _userCoalescer;
    private readonly AgentConnection _connection;
    private readonly CancellationTokenSource _stopping = new();
    private readonly object _tagsGate = new();
    private IReadOnlyDictionary<string, string> _tags;
    private Task? _running;
    private Task? _deploySending;
    private readonly object _stopGate = new();
    private Task? _stop;

    /// <summary>An agent for <paramref name="settings"/>; <paramref name="timeProvider"/> drives heartbeats and coalescing (handler processes always run on the real clock).</summary>
    public NodeAgent(AgentSettings settings, ILoggerFactory? loggerFactory = null, TimeProvider? timeProvider = null)
    {
        _settings = settings;
        TakesMemberEvents = settings.Handlers.Any(h => h.TakesMemberEvents);
        loggerFactory ??= NullLoggerFactory.Instance;
        _logger = loggerFactory.CreateLogger("Platform.Agent");
        _time = timeProvider ?? TimeProvider.System;
        _tags = new Dictionary<string, string>(settings.Tags, StringComparer.Ordinal);
        _applied = new AppliedTracker(new LastAppliedStore(settings.DataDir));
        _dispatcher = new HandlerDispatcher(
            settings.Handlers,
            new HandlerProcess(TimeProvider.System, _logger),
            () => (settings.NodeName, Tags),
            settings.HandlerTimeout,
            settings.HandlerConcurrency,
            _logger);
        _dispatcher.HandlerCompleted += result => HandlerCompleted?.Invoke(result);
        if (settings.CoalescePeriod > TimeSpan.Zero)
            _memberCoalescer = new MemberEventCoalescer(_time, settings.CoalescePeriod, settings.QuiescentPeriod, DispatchMembers, settings.NodeName);
        if (settings.UserCoalescePeriod > TimeSpan.Zero)
            _userCoalescer = new UserEventCoalescer(_time, settings.UserCoalescePeriod, settings.UserQuiescentPeriod, DispatchUser, Superseded);
        _connection = new AgentConnection(ConnectionOptions(settings, _time), new Session(this), _logger);
        _jobs = CreateJobHost(settings, loggerFactory);
        // A change is sent when it happens; a change made while disconnected reaches the silo in the next hello.
        if (settings.Checks.Count > 0)
            _checks = new CheckSet(settings.Checks, state => _ = _connection.SendAsync(new CheckFrame(state)),
                new CheckOptions { EnableScriptChecks = settings.EnableScriptChecks }, _time, loggerFactory.CreateLogger<CheckSet>());
        _registeredChecks = new RegisteredChecks(settings.Checks.Select(c => c.Id).ToHashSet(StringComparer.Ordinal), settings.EnableApiScriptChecks,
            state => _ = _connection.SendAsync(new CheckFrame(state)), time: _time, loggerFactory: loggerFactory);
    }

    private readonly CheckSet? _checks;

    /// <summary>Checks registered through the API, sent by the silo after each welcome and on each change.</summary>
    private readonly RegisteredChecks _registeredChecks;

    /// <summary>New for every agent process: a reconnect is told apart from a second agent claiming the name.</summary>
    public string AgentId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The node's name.</summary>
    public string Name => _settings.NodeName;

    /// <summary>The node's tags now.</summary>
    public IReadOnlyDictionary<string, string> Tags
    {
        get { lock (_tagsGate) return _tags; }
    }

    /// <summary>The members known now, by name.</summary>
    public IReadOnlyDictionary<string, MemberInfo> Members => _members.Snapshot();

    /// <summary>
    /// Whether this agent asks for member events, decided by the handlers it started with: one that runs no member
    /// handler is sent none, and its member view holds only itself. A silo with thousands of such agents then spends
    /// one send per join instead of one per agent.
    /// </summary>
    public bool TakesMemberEvents { get; }

    /// <summary>Every user event up to this Lamport time is handled (and on disk).</summary>
    public ulong LastAppliedLTime => _applied.Applied;

    /// <summary>The connection (its state and events: <see cref="AgentConnection.Connected"/>, <see cref="AgentConnection.Disconnected"/>).</summary>
    public AgentConnection Connection => _connection;

    /// <summary>Ends when the agent has left (by <see cref="StopAsync"/> or the silo's leave) or was stopped; faults with <see cref="AgentRefusedException"/> when refused.</summary>
    public Task Completion => _running ?? throw new InvalidOperationException("the agent is not started");

    /// <summary>Raised when an event is handed to the handlers (after coalescing), whether or not a handler accepts it.</summary>
    public event Action<HandlerEvent>? EventDispatched;

    /// <summary>Raised after each handler run.</summary>
    public event Action<HandlerResult>? HandlerCompleted;

    /// <summary>Raised when the applied mark moves (after it is on disk).</summary>
    public event Action<ulong>? Applied;

    /// <summary>Starts connecting (it does not wait for a silo); the connection then lives until <see cref="StopAsync"/>. Throws <see cref="IOException"/> when the data directory cannot be made.</summary>
    public Task StartAsync(CancellationToken cancellationToken = default)
    {
        if (_running is not null) throw new InvalidOperationException("the agent is started already");
        try { Directory.CreateDirectory(_settings.DataDir); }
        catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
        {
            throw new IOException($"data_dir '{_settings.DataDir}': cannot be created: {failure.Message}", failure);
        }
        LogStarting(_logger, Name, AgentId, _settings.Servers.Count, _applied.Applied);
        foreach (var server in _settings.Servers)
            if (server.Scheme is "http" or "ws" && !server.IsLoopback) LogPlainText(_logger, server);
        _running = _connection.RunAsync(_stopping.Token);
        _deploySending = DeployFramesLoop(_stopping.Token);
        _checks?.Start();
        return Task.CompletedTask;
    }

    /// <summary>Stops: with <paramref name="leave"/> a graceful leave first (the node goes left, not failed); running handlers then get <see cref="HandlerStopGrace"/> to finish.</summary>
    public Task StopAsync(bool leave = true, CancellationToken cancellationToken = default)
    {
        // Every caller (a signal, the silo's leave, dispose) waits for the one stop under way.
        lock (_stopGate) return _stop ??= StopCoreAsync(leave, cancellationToken);
    }

    private async Task StopCoreAsync(bool leave, CancellationToken cancellationToken)
    {
        await Task.Yield();
        if (leave && _running is { IsCompleted: false })
        {
            LogLeaving(_logger);
            await _connection.LeaveAsync().WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        await _stopping.CancelAsync().ConfigureAwait(false);
        if (_running is not null)
        {
            try { await _running.ConfigureAwait(false); }
            catch (AgentRefusedException)
            {
                // Completion carries it to whoever watches it.
            }
        }
        if (_checks is not null) await _checks.DisposeAsync().ConfigureAwait(false);
        await _registeredChecks.DisposeAsync().ConfigureAwait(false);
        if (_deploySending is not null) await _deploySending.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _memberCoalescer?.Dispose();
        _userCoalescer?.Dispose();
        await _dispatcher.StopAsync(HandlerStopGrace).ConfigureAwait(false);
        await _jobs.StopAsync(_settings.BuildCancelGrace).ConfigureAwait(false);
        _artifactsHttp?.Dispose();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        await StopAsync(leave: false).ConfigureAwait(false);
        _stopping.Dispose();
    }

    private HelloFrame CreateHello()
    {
        IReadOnlyDictionary<string, string> tags;
        lock (_tagsGate) _helloTags = tags = _tags;
        return new(Name, _settings.Address, _settings.Port, tags, AgentId, _settings.Protocol, _applied.Applied, _checks?.Current, TakesMemberEvents,
            _settings.EnableApiScriptChecks, _registeredChecks.Any);
    }

    private async ValueTask OnWelcomeAsync(WelcomeFrame welcome)
    {
        if (_applied.IsNew) _applied.Persist();
        _registeredChecks.ResetVersion();
        if (AdoptRegisteredTags(welcome.Self.Tags) is { } changedLocally)
            await _connection.SendAsync(new TagsFrame(changedLocally)).ConfigureAwait(false);
        var members = new List<MemberInfo>(welcome.Members.Count + 1);
        var selfListed = false;
        foreach (var member in welcome.Members)
        {
            members.Add(member);
            selfListed |= member.Name == welcome.Self.Name;
        }
        if (!selfListed) members.Add(welcome.Self);
        foreach (var (type, member) in _members.Welcome(members)) AddMemberEvent(type, member);
        _memberCoalescer?.FlushIfFailed();
        // A reconnect may come after events were handled while disconnected from the silo's view.
        await _connection.SendAsync(new AppliedFrame(_applied.Applied)).ConfigureAwait(false);
        await _jobs.OnWelcomeAsync().ConfigureAwait(false);
        OnDeployWelcome();
    }

    private async ValueTask OnFrameAsync(AgentFrame frame)
    {
        switch (frame)
        {
            case MemberEventFrame member:
                _members.Apply(member);
                AddMemberEvent(member.Event, member.Member);
                _memberCoalescer?.FlushIfFailed();
                break;
            case MembersFrame batch:
                foreach (var member in batch.Events)
                {
                    _members.Apply(member);
                    AddMemberEvent(member.Event, member.Member);
                }
                _memberCoalescer?.FlushIfFailed();
                break;
            case UserEventFrame user:
                OnUserEvent(user);
                break;
            case QueryFrame query:
                await OnQueryAsync(query).ConfigureAwait(false);
                break;
            case TagsFrame tags:
                SetTags(tags.Tags, fromSilo: true);
                break;
            case CheckFrame check:
                OnCheckReport(check.Check);
                break;
            case ChecksFrame registered:
                await _registeredChecks.ApplyAsync(registered.Version, registered.Checks).ConfigureAwait(false);
                break;
            case DeployFrame deploy:
                OnDeploy(deploy);
                break;
            case DeployCancelFrame cancelDeploy:
                OnDeployCancel(cancelDeploy);
                break;
            case DeployResultAckFrame ack:
                OnDeployResultAck(ack);
                break;
            case DeployLogAckFrame logAck:
                OnDeployLogAck(logAck);
                break;
            case LeaveFrame:
                LogSiloAskedLeave(_logger);
                _ = Task.Run(() => StopAsync(leave: true));
                break;
            default:
                if (!_jobs.OnFrame(frame)) LogUnexpectedFrame(_logger, frame.GetType().Name);
                break;
        }
    }

    /// <summary>Adopts <paramref name="tags"/> (and writes the tags file); false when they are the tags already.</summary>
    private bool SetTags(IReadOnlyDictionary<string, string> tags, bool fromSilo)
    {
        lock (_tagsGate)
        {
            if (SameTags(_tags, tags)) return false;
            _tags = new Dictionary<string, string>(tags, StringComparer.Ordinal);
            if (_settings.TagsFile is { } path)
            {
                try { TagsFile.Write(path, _tags); }
                catch (Exception failure) when (failure is IOException or UnauthorizedAccessException)
                {
                    LogTagsFileFailed(_logger, path, failure.Message);
                }
            }
        }
        if (fromSilo) LogTagsAdopted(_logger, tags.Count);
        return true;
    }

    private static bool SameTags(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b)
    {
        if (a.Count != b.Count) return false;
        foreach (var (key, value) in a)
            if (!b.TryGetValue(key, out var other) || other != value) return false;
        return true;
    }

    private void Dispatch(HandlerEvent e, Func<HandlerEvent, IReadOnlyList<HandlerResult>, Task>? done = null, Action? finished = null)
    {
        try { EventDispatched?.Invoke(e); }
        catch (Exception failure) { LogObserverFailed(_logger, failure); }
        _dispatcher.Enqueue(e, done, finished);
    }

    private void Dispatch(MemberHandlerEvent e) => Dispatch(e, null);

    /// <summary>A coalesced member batch: the coalescer holds the next one until <paramref name="handled"/> is called.</summary>
    private void DispatchMembers(MemberHandlerEvent e, Action handled) => Dispatch(e, finished: handled);

    private static AgentConnectionOptions ConnectionOptions(AgentSettings settings, TimeProvider time)
    {
        X509Certificate2Collection? client = null;
        X509Certificate2Collection? roots = null;
        if (settings.CertFile is { } cert && settings.KeyFile is { } key)
            client = [X509Certificate2.CreateFromPemFile(cert, key)];
        if (settings.CaFile is { } ca)
        {
            roots = [];
            roots.ImportFromPemFile(ca);
        }
        return new AgentConnectionOptions
        {
            Servers = settings.Servers,
            HeartbeatInterval = settings.HeartbeatInterval,
            ConnectTimeout = settings.ConnectTimeout,
            Token = settings.Token,
            ClientCertificates = client,
            TrustedRoots = roots,
            // The files were read above so that an unreadable one stops the agent at start; the shared settings re-read
            // them per connect and explain a refused handshake (untrusted or expired silo certificate).
            Tls = settings.CaFile is null && settings.CertFile is null ? null
                : new Platform.Client.Tls.TlsClientSettings { CaFile = settings.CaFile, CertFile = settings.CertFile, KeyFile = settings.KeyFile },
            TimeProvider = time,
        };
    }

    /// <summary>The connection's view of this agent, kept off the public surface.</summary>
    private sealed class Session(NodeAgent agent) : IAgentSession
    {
        public HelloFrame CreateHello() => agent.CreateHello();

        public ValueTask OnWelcomeAsync(WelcomeFrame welcome, CancellationToken cancellationToken) => agent.OnWelcomeAsync(welcome);

        public ValueTask OnFrameAsync(AgentFrame frame, CancellationToken cancellationToken) => agent.OnFrameAsync(frame);
    }
}
