using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Platform.Protocol;

namespace Platform.Agent.Deploy;

/// <summary>
/// Stretcher's procedure for one manifest URL (docs/deploys.md): load the manifest, download and verify the archive,
/// <c>pre</c>, extract, sync into <c>dest</c>, <c>post</c>, then <c>success</c> or <c>failure</c> with the log on stdin.
/// Nothing under <c>dest</c> changes when the deploy fails before its sync.
/// </summary>
public sealed class StretchRunner(
    StretchOptions options,
    ArtifactSource source,
    DeployLog log,
    TextWriter output,
    TextWriter error,
    Func<string, string?> environment,
    TimeProvider time)
{
    /// <summary>Loads and deploys the manifest at <paramref name="manifestUrl"/>; true when the deploy succeeded.</summary>
    public async Task<bool> RunAsync(string manifestUrl, CancellationToken cancellationToken)
    {
        log.Line($"Loading manifest: {LogSafe.Url(manifestUrl)}");
        StretchManifest manifest;
        try
        {
            manifest = await LoadManifestAsync(manifestUrl, cancellationToken).ConfigureAwait(false);
        }
        catch (DeployException e)
        {
            log.Line($"Load manifest failed: {e.Message}");
            return false;
        }
        log.Line(Describe(manifest));
        return await DeployAsync(manifest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deploys the manifest given as YAML text (a cluster deploy's inline manifest); true when the deploy succeeded.</summary>
    public async Task<bool> RunTextAsync(string manifestText, CancellationToken cancellationToken)
    {
        log.Line("Loading inline manifest");
        StretchManifest manifest;
        try
        {
            manifest = Checked(manifestText);
        }
        catch (DeployException e)
        {
            log.Line($"Load manifest failed: {e.Message}");
            return false;
        }
        log.Line(Describe(manifest));
        return await DeployAsync(manifest, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deploys <paramref name="manifest"/> and runs its success or failure commands; true when it succeeded.</summary>
    public async Task<bool> DeployAsync(StretchManifest manifest, CancellationToken cancellationToken)
    {
        try
        {
            await DeployCoreAsync(manifest, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DeployException or IOException or UnauthorizedAccessException)
        {
            log.Line($"Deploy manifest failed: {e.Message}");
            await RunPipedAsync(manifest.Commands.Failure, "failure", cancellationToken).ConfigureAwait(false);
            return false;
        }
        log.Line("Deploy manifest succeeded.");
        await RunPipedAsync(manifest.Commands.Success, "success", cancellationToken).ConfigureAwait(false);
        log.Line("Done");
        return true;
    }

    private async Task<StretchManifest> LoadManifestAsync(string url, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            await using var stream = await source.OpenAsync(url, cancellationToken).ConfigureAwait(false);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            text = await reader.ReadToEndAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or HttpRequestException)
        {
            throw new DeployException($"reading {LogSafe.Url(url)}: {e.Message}", e);
        }
        return Checked(text);
    }

    private StretchManifest Checked(string text)
    {
        var warnings = new List<string>();
        var manifest = ManifestParser.Parse(text, environment, warnings);
        foreach (var warning in warnings) log.Line(warning);
        if (manifest.Src is not null && manifest.Checksum is null)
            throw new DeployException("manifest: checksum is required when src is set (an md5, sha1, sha256 or sha512 hex digest of the archive)");
        return manifest;
    }

    private async Task DeployCoreAsync(StretchManifest manifest, CancellationToken cancellationToken)
    {
        if (manifest.Src is null)
        {
            await RunAllAsync(manifest.Commands.Pre, cancellationToken).ConfigureAwait(false);
            await RunAllAsync(manifest.Commands.Post, cancellationToken).ConfigureAwait(false);
            return;
        }
        var dest = manifest.Dest!;
        var archive = Path.Combine(Path.GetTempPath(), $"platform-stretch-{Guid.NewGuid():N}");
        string? staging = null;
        try
        {
            await FetchAsync(manifest, archive, cancellationToken).ConfigureAwait(false);
            staging = manifest.SyncStrategy == SyncStrategy.Move
                ? MoveSync.StagingDirectory(dest)
                : Path.Combine(Path.GetTempPath(), $"platform-stretch-src-{Guid.NewGuid():N}");
            Directory.CreateDirectory(staging);

            await RunAllAsync(manifest.Commands.Pre, cancellationToken).ConfigureAwait(false);

            log.Line($"Extract archive: {archive} to {staging}");
            await ArchiveExtractor.ExtractAsync(archive, staging, cancellationToken).ConfigureAwait(false);
            log.Line($"Set dest mode {FormatMode(manifest.DestMode)}");
            UnixMode.Set(staging, manifest.DestMode);

            if (manifest.SyncStrategy == SyncStrategy.Move)
            {
                MoveSync.Run(staging, dest, log);
                staging = null;
            }
            else
            {
                await RsyncSync.RunAsync(manifest, options, staging, log, cancellationToken).ConfigureAwait(false);
            }

            await RunAllAsync(manifest.Commands.Post, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(archive);
            if (staging is not null) RemoveTree(staging);
        }
    }

    private async Task FetchAsync(StretchManifest manifest, string archive, CancellationToken cancellationToken)
    {
        var url = manifest.Src!;
        using var deadline = options.Timeout is { } timeout ? new CancellationTokenSource(timeout, time) : new CancellationTokenSource();
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        if (options.Timeout is { } t) log.Line($"Set timeout {GoDuration.Format(t)}");
        if (options.MaxBandwidth is { } bw) log.Line($"Set max bandwidth {bw} bytes/sec");
        try
        {
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    await DownloadAsync(manifest, archive, linked.Token).ConfigureAwait(false);
                    return;
                }
                catch (Exception e) when (e is DeployException or IOException or HttpRequestException && !linked.IsCancellationRequested)
                {
                    if (e is DeployException { Message: var m } && m.StartsWith("checksum mismatch", StringComparison.Ordinal)) throw;
                    if (attempt >= options.Retry) throw new DeployException($"get src failed: {e.Message}", e);
                    log.Line($"Get src failed: {e.Message}");
                    log.Line($"Try again. Waiting: {GoDuration.Format(options.RetryWait)}");
                    await Task.Delay(options.RetryWait, time, linked.Token).ConfigureAwait(false);
                }
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or HttpRequestException or DeployException
            && deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new DeployException($"timeout {GoDuration.Format(options.Timeout!.Value)} reached while fetching src {LogSafe.Url(url)}");
        }
    }

    private async Task DownloadAsync(StretchManifest manifest, string archive, CancellationToken cancellationToken)
    {
        var started = time.GetTimestamp();
        var algorithm = ChecksumAlgorithm.ForHexLength(manifest.Checksum!.Length)!.Value;
        using var hash = IncrementalHash.CreateHash(algorithm);
        long written = 0;
        log.Line($"Loading URL {LogSafe.Url(manifest.Src!)}");
        await using (var opened = await source.OpenAsync(manifest.Src!, cancellationToken).ConfigureAwait(false))
        await using (var file = new FileStream(archive, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true))
        {
            Stream input = options.MaxBandwidth is { } bandwidth ? new ThrottledStream(opened, bandwidth, time) : opened;
            var buffer = new byte[1 << 16];
            int n;
            while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                hash.AppendData(buffer, 0, n);
                await file.WriteAsync(buffer.AsMemory(0, n), cancellationToken).ConfigureAwait(false);
                written += n;
            }
        }
        var elapsed = time.GetElapsedTime(started);
        var rate = written / Math.Max(elapsed.TotalSeconds, 1e-6) / 1e6;
        log.Line(string.Create(CultureInfo.InvariantCulture, $"Wrote {written:N0} bytes to {archive} (in {GoDuration.Format(elapsed)}, {rate:F1} MB/s)"));
        var sum = Convert.ToHexStringLower(hash.GetHashAndReset());
        if (!string.Equals(sum, manifest.Checksum, StringComparison.OrdinalIgnoreCase))
            throw new DeployException($"checksum mismatch. expected:{manifest.Checksum} got:{sum}");
        log.Line($"Checksum ok: {sum}");
    }

    private async Task RunAllAsync(IReadOnlyList<string> lines, CancellationToken cancellationToken)
    {
        foreach (var line in lines)
        {
            log.Line($"invoking command: {line}");
            var exit = await ShellCommand.RunAsync(line, log, options.CancelGrace, cancellationToken).ConfigureAwait(false);
            if (exit != 0) throw new DeployException($"failed: {line} exit status {exit}");
        }
    }

    private async Task RunPipedAsync(IReadOnlyList<string> lines, string phase, CancellationToken cancellationToken)
    {
        foreach (var line in lines)
        {
            log.Line($"invoking command: {line}");
            int exit;
            try
            {
                exit = await ShellCommand.RunPipedAsync(line, log.Snapshot(), output, error, options.CancelGrace, cancellationToken).ConfigureAwait(false);
            }
            catch (DeployException e)
            {
                log.Line($"{phase} command failed: {e.Message}");
                return;
            }
            if (exit != 0)
            {
                // As Stretcher: the rest of the phase is skipped, and the deploy's outcome stands.
                log.Line($"{phase} command failed: {line} exit status {exit}");
                return;
            }
        }
    }

    private static string Describe(StretchManifest m)
        => m.Src is null
            ? $"Executing manifest: commands only (pre {m.Commands.Pre.Count}, post {m.Commands.Post.Count})"
            : $"Executing manifest: src {LogSafe.Url(m.Src)} dest {m.Dest} dest_mode {FormatMode(m.DestMode)} sync_strategy {(m.SyncStrategy == SyncStrategy.Move ? "mv" : "rsync")} excludes [{string.Join(' ', m.Excludes)}]";

    private static string FormatMode(UnixFileMode mode) => "0" + Convert.ToString((int)mode, 8);

    /// <summary>Removes a staging tree even when the archive made some of its directories read-only.</summary>
    internal static void RemoveTree(string path)
    {
        if (!Directory.Exists(path)) return;
        foreach (var dir in Directory.EnumerateDirectories(path, "*", new EnumerationOptions { RecurseSubdirectories = true, AttributesToSkip = FileAttributes.ReparsePoint }).Prepend(path))
        {
            try { UnixMode.Set(dir, UnixMode.Get(dir) | UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute); }
            catch (IOException) { }
        }
        Directory.Delete(path, recursive: true);
    }
}
