using System.Runtime.InteropServices;
using Microsoft.Extensions.Options;
using Platform.Agent;
using Platform.Agent.Configuration;

namespace Platform.Silo.Hosting;

/// <summary>Section "Platform:Agent": the silo is also the node agent of the machine it runs on ("silo hosting on nodes").</summary>
public sealed class SiloAgentOptions
{
    /// <summary>Runs a node agent in the silo's process, connected to this silo. Default false. Command line: --agent.</summary>
    public bool Enabled { get; set; }

    /// <summary>A Serf-style agent configuration file (docs/agent.md); this silo's URL is put first in its servers. Command line: --agent-config.</summary>
    public string? ConfigFile { get; set; }
}

/// <summary>
/// The node agent of the silo's own machine: the same agent and the same WebSocket protocol as <c>platform agent</c>,
/// connected to this silo over loopback once it listens, and leaving gracefully before the silo stops.
/// </summary>
public sealed class SiloAgent(AgentSettings settings, ILoggerFactory loggers, IHostApplicationLifetime lifetime) : IHostedService, IAsyncDisposable
{
    /// <summary>How long a stopping silo waits for its own node's leave before it closes the agent sockets anyway.</summary>
    private static readonly TimeSpan s_leaveWait = TimeSpan.FromSeconds(10);

    private readonly NodeAgent _agent = new(settings, loggers);
    private CancellationTokenRegistration _stopping;
    private CancellationTokenRegistration _started;
    private PosixSignalRegistration? _terminate;
    private PosixSignalRegistration? _interrupt;

    // The signal that stops the silo, if one did (the host stops on either without saying which).
    private PosixSignal? _signal;

    /// <summary>The node's name.</summary>
    public string NodeName => settings.NodeName;

    /// <summary>Reads the agent's configuration; a bad file or value is a <see cref="StartupException"/> naming it.</summary>
    public static AgentSettings LoadSettings(SiloAgentOptions options, string siloUrls, string dataDir)
    {
        var args = new List<string> { "-server", LoopbackUrl(siloUrls), "-data-dir", Path.Combine(Path.GetFullPath(dataDir), "agent") };
        if (!string.IsNullOrWhiteSpace(options.ConfigFile))
        {
            args.Add(Directory.Exists(options.ConfigFile) ? "-config-dir" : "-config-file");
            args.Add(options.ConfigFile);
        }
        try
        {
            return AgentSettings.Load(CommandLine.Parse(args));
        }
        catch (ConfigException e)
        {
            throw new StartupException($"node agent (Platform:Agent, --agent-config): {e.Message}", e);
        }
    }

    /// <summary>The first of the silo's URLs, with a wildcard host made loopback: the agent reaches its own silo without leaving the machine.</summary>
    internal static string LoopbackUrl(string urls)
    {
        var first = urls.Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? SiloSetup.DefaultUrls;
        var builder = new UriBuilder(first.Replace("://*", "://0.0.0.0", StringComparison.Ordinal).Replace("://+", "://0.0.0.0", StringComparison.Ordinal));
        if (builder.Host is "0.0.0.0" or "[::]" or "::") builder.Host = "127.0.0.1";
        return builder.Uri.ToString().TrimEnd('/');
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // The agent hub closes every socket when the silo starts stopping. Stopping callbacks run newest first, and this
        // one is registered after the hub's, so the node leaves (left, not failed) while the hub still takes the leave.
        // As `platform agent` does (and Serf's agent): SIGTERM leaves unless leave_on_terminate is false, SIGINT unless
        // skip_leave_on_interrupt; without a leave the node is failed. The host still handles the signal itself.
        _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => _signal ??= PosixSignal.SIGTERM);
        _interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, _ => _signal ??= PosixSignal.SIGINT);
        _stopping = lifetime.ApplicationStopping.Register(() => _agent.StopAsync(leave: Leaves(_signal, settings)).Wait(s_leaveWait));
        // Hosted services start before Kestrel listens: connecting once it does spares a refused first attempt.
        _started = lifetime.ApplicationStarted.Register(() => _agent.StartAsync(CancellationToken.None));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => _agent.StopAsync(leave: Leaves(_signal, settings), cancellationToken);

    /// <summary>Whether a stop caused by <paramref name="signal"/> (null: not a signal) leaves the cluster gracefully.</summary>
    internal static bool Leaves(PosixSignal? signal, AgentSettings settings) => signal switch
    {
        PosixSignal.SIGTERM => settings.LeaveOnTerminate,
        PosixSignal.SIGINT => !settings.SkipLeaveOnInterrupt,
        _ => true,
    };

    public async ValueTask DisposeAsync()
    {
        _terminate?.Dispose();
        _interrupt?.Dispose();
        await _stopping.DisposeAsync();
        await _started.DisposeAsync();
        await _agent.DisposeAsync();
    }
}
