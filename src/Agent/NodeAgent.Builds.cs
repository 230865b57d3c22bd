using Microsoft.Extensions.Logging;
using Platform.Agent.Builds;
using Platform.Agent.Configuration;
using Platform.Builds.Running;

namespace Platform.Agent;

public sealed partial class NodeAgent
{
    private readonly JobHost _jobs;
    private HttpClient? _artifactsHttp;

    /// <summary>The build jobs this agent runs (docs/builds.md, "Jobs on agents").</summary>
    internal JobHost Jobs => _jobs;

    private JobHost CreateJobHost(AgentSettings settings, ILoggerFactory loggerFactory)
    {
        var tls = settings.CaFile is null && settings.CertFile is null ? null
            : new Platform.Client.Tls.TlsClientSettings { CaFile = settings.CaFile, CertFile = settings.CertFile, KeyFile = settings.KeyFile };
        return new JobHost(
            new JobHostOptions
            {
                DataDir = settings.DataDir,
                Slots = settings.BuildSlots,
                Engine = settings.BuildEngine,
                CancelGrace = settings.BuildCancelGrace,
                Repositories = settings.BuildRepositories,
                // Artifacts go to the silo this agent is connected to, with the agent's token and TLS files.
                Artifacts = () =>
                {
                    var server = _connection.Server ?? settings.Servers[0];
                    _artifactsHttp ??= new HttpClient(tls?.Configure(new SocketsHttpHandler(), _time) ?? new SocketsHttpHandler()) { Timeout = Timeout.InfiniteTimeSpan };
                    return new ArtifactUploader(_artifactsHttp, server, settings.Token);
                },
            },
            frame => _connection.SendAsync(frame),
            loggerFactory.CreateLogger("Platform.Agent.Builds"));
    }
}
