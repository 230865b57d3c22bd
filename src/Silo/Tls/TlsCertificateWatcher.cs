namespace Platform.Silo.Tls;

/// <summary>
/// Reloads the server certificate and the client CA bundle when their files change: file-system notifications for
/// speed, and a periodic check (<see cref="TlsOptions.ReloadCheckInterval"/>) for file systems that send none.
/// </summary>
internal sealed partial class TlsCertificateWatcher(
    TlsServerCertificate server, TlsClientCertificateValidator? clientCa, TlsOptions options, TimeProvider time, ILogger<TlsCertificateWatcher> logger)
    : IHostedService, IDisposable
{
    /// <summary>Files are often written in steps (certificate, then key): one check a moment after the last event.</summary>
    private static readonly TimeSpan s_settle = TimeSpan.FromMilliseconds(250);

    private readonly List<FileSystemWatcher> _watchers = [];
    private ITimer? _settle;
    private ITimer? _periodic;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        var current = server.Current;
        LogServing(TlsServerCertificate.Describe(current), clientCa is null ? "none" : options.ClientCa!);
        if (current.NotAfter.ToUniversalTime() < time.GetUtcNow().UtcDateTime) LogExpired(current.NotAfter.ToUniversalTime());
        _settle = time.CreateTimer(static w => ((TlsCertificateWatcher)w!).Check(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        if (options.ReloadCheckInterval > TimeSpan.Zero)
            _periodic = time.CreateTimer(static w => ((TlsCertificateWatcher)w!).Check(), this, options.ReloadCheckInterval, options.ReloadCheckInterval);
        var directories = new HashSet<string>(StringComparer.Ordinal);
        foreach (var file in new[] { options.Cert, options.Key, options.ClientCa })
        {
            if (string.IsNullOrEmpty(file)) continue;
            var directory = Path.GetDirectoryName(Path.GetFullPath(file));
            if (directory is not null) directories.Add(directory);
        }
        foreach (var directory in directories) Watch(directory);
        return Task.CompletedTask;
    }

    private void Watch(string directory)
    {
        try
        {
            // The whole directory: editors and secret mounts replace files by renames and symbolic links.
            var watcher = new FileSystemWatcher(directory)
            {
                NotifyFilter = NotifyFilters.FileName | NotifyFilters.DirectoryName | NotifyFilters.LastWrite | NotifyFilters.Size | NotifyFilters.CreationTime,
            };
            watcher.Changed += (_, _) => Poke();
            watcher.Created += (_, _) => Poke();
            watcher.Deleted += (_, _) => Poke();
            watcher.Renamed += (_, _) => Poke();
            watcher.Error += (_, e) => LogWatchFailed(directory, e.GetException().Message);
            watcher.EnableRaisingEvents = true;
            _watchers.Add(watcher);
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            LogWatchFailed(directory, e.Message);
        }
    }

    private void Poke() => _settle?.Change(s_settle, Timeout.InfiniteTimeSpan);

    /// <summary>Runs on timer threads; the certificate classes serialize their own reloads.</summary>
    internal void Check()
    {
        Report("server certificate", server.CheckForChange());
        if (clientCa is not null) Report("client CA bundle", clientCa.CheckForChange());
    }

    private void Report(string what, TlsReload reload)
    {
        if (reload.Loaded is not null) LogReloaded(what, reload.Loaded);
        else if (reload.Error is not null) LogReloadFailed(what, reload.Error);
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        foreach (var watcher in _watchers) watcher.Dispose();
        _watchers.Clear();
        _settle?.Dispose();
        _periodic?.Dispose();
    }

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "HTTPS with certificate {Certificate}; agent client CA: {ClientCa}")]
    private partial void LogServing(string certificate, string clientCa);

    [LoggerMessage(EventId = 5, Level = LogLevel.Warning, Message = "the HTTPS certificate expired on {NotAfter:u}: clients will refuse it until its files are renewed")]
    private partial void LogExpired(DateTime notAfter);

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "TLS {What} reloaded: {Loaded}")]
    private partial void LogReloaded(string what, string loaded);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "TLS {What} not reloaded, the one in use stays: {Error}")]
    private partial void LogReloadFailed(string what, string error);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "TLS files in '{Directory}' are not watched ({Error}); changes are found by the periodic check (Platform:Tls:ReloadCheckInterval)")]
    private partial void LogWatchFailed(string directory, string error);
}
