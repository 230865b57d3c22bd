using System.Reflection;
using System.Text;

namespace Platform.Agent.Deploy;

/// <summary>
/// <c>platform stretch</c>, a drop-in for the <c>stretcher</c> binary: reads the manifest URL from standard input (a
/// Consul event list or one line), skips an event already applied, deploys, and exits with Stretcher's codes.
/// </summary>
public static class StretchProgram
{
    /// <summary>The deploy succeeded, or the event had already been applied.</summary>
    public const int Ok = 0;

    /// <summary>The deploy failed (0 instead when <c>CONSUL_INDEX</c> is set, as Stretcher keeps <c>consul watch</c> going).</summary>
    public const int Failed = 1;

    /// <summary>A flag is not valid.</summary>
    public const int Usage = 2;

    private const int MaxInput = 1 << 20;

    /// <summary>Runs with <paramref name="args"/> (what follows <c>platform stretch</c>).</summary>
    public static async Task<int> RunAsync(
        string[] args,
        TextReader input,
        TextWriter output,
        TextWriter error,
        Func<string, string?> environment,
        TimeProvider time,
        CancellationToken cancellationToken)
    {
        StretchCommandLine commandLine;
        try
        {
            commandLine = StretchCommandLine.Parse(args);
        }
        catch (DeployException e)
        {
            await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            await error.WriteLineAsync(StretchCommandLine.Usage).ConfigureAwait(false);
            return Usage;
        }
        if (commandLine.Help)
        {
            await output.WriteLineAsync(StretchCommandLine.Usage).ConfigureAwait(false);
            return Ok;
        }
        if (commandLine.Version)
        {
            await output.WriteLineAsync($"version: {typeof(StretchProgram).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown"}").ConfigureAwait(false);
            return Ok;
        }

        var underConsul = !string.IsNullOrEmpty(environment("CONSUL_INDEX"));
        var log = new DeployLog(error, time);
        try
        {
            var succeeded = await RunCoreAsync(commandLine, input, output, error, environment, time, log, cancellationToken).ConfigureAwait(false);
            return succeeded || underConsul ? Ok : Failed;
        }
        catch (DeployException e)
        {
            log.Line(e.Message);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            log.Line("interrupted");
        }
        // Under `consul watch` a failure must not stop the watch: Stretcher exits 0 there.
        return underConsul ? Ok : Failed;
    }

    private static async Task<bool> RunCoreAsync(
        StretchCommandLine commandLine,
        TextReader input,
        TextWriter output,
        TextWriter error,
        Func<string, string?> environment,
        TimeProvider time,
        DeployLog log,
        CancellationToken cancellationToken)
    {
        var options = commandLine.Options;
        log.Line("Starting up stretcher agent (platform stretch)");
        if (options.RandomDelay > TimeSpan.Zero)
        {
            var sleep = TimeSpan.FromTicks(Random.Shared.NextInt64(options.RandomDelay.Ticks));
            log.Line($"Sleeping {Platform.Protocol.GoDuration.Format(sleep)}");
            await Task.Delay(sleep, time, cancellationToken).ConfigureAwait(false);
        }

        log.Line("Waiting for events from STDIN...");
        var e = StretchEvent.Parse(await ReadInputAsync(input, cancellationToken).ConfigureAwait(false), environment);
        log.Line(e.Form == StretchEvent.ConsulForm
            ? $"Reading Consul event: ID {e.Id} name {e.Name} ltime {e.LTime}"
            : e.Name is not null ? $"Reading Serf user event: {e.Name} ltime {e.LTime}" : "Reading manifest URL from standard input");

        // Whoever can fire the event chooses the manifest, and the manifest runs commands: an allow-list pins where it may come from.
        if (commandLine.AllowedUrls.Count > 0 && !commandLine.AllowedUrls.Any(p => e.ManifestUrl.StartsWith(p, StringComparison.Ordinal)))
            throw new DeployException($"manifest URL {LogSafe.Url(e.ManifestUrl)} does not start with an allowed prefix (-allow-url {string.Join(", -allow-url ", commandLine.AllowedUrls)}); not deployed");

        var statePath = commandLine.StateFile ?? DefaultStateFile(environment);
        await using var applied = await AppliedEvents.OpenAsync(statePath, time, cancellationToken).ConfigureAwait(false);
        if (applied.AlreadyApplied(e) is { } last)
        {
            log.Line($"Event already applied (ID {last.Id ?? "-"}, ltime {last.LTime?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-"}, at {last.AppliedAt:O}); skipped, as recorded in {statePath}");
            return true;
        }

        using var http = new HttpClient(new SocketsHttpHandler { AutomaticDecompression = System.Net.DecompressionMethods.None });
        http.DefaultRequestHeaders.UserAgent.ParseAdd("platform-stretch");
        http.Timeout = Timeout.InfiniteTimeSpan;
        using var source = new ArtifactSource(http, options.S3, environment);
        var runner = new StretchRunner(options, source, log, output, error, environment, time);
        var succeeded = await runner.RunAsync(e.ManifestUrl, cancellationToken).ConfigureAwait(false);
        await applied.RecordAsync(e, succeeded, time.GetUtcNow(), cancellationToken).ConfigureAwait(false);
        return succeeded;
    }

    private static async Task<string> ReadInputAsync(TextReader input, CancellationToken cancellationToken)
    {
        var text = new StringBuilder();
        var buffer = new char[8192];
        int n;
        while ((n = await input.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
        {
            text.Append(buffer, 0, n);
            if (text.Length > MaxInput) throw new DeployException($"standard input: more than {MaxInput} characters; expected a manifest URL or a Consul event JSON array");
        }
        return text.ToString();
    }

    /// <summary>The state file when <c>-state-file</c> is not given.</summary>
    public static string DefaultStateFile(Func<string, string?> environment)
    {
        if (environment("PLATFORM_STRETCH_STATE") is { Length: > 0 } path) return path;
        if (Environment.IsPrivilegedProcess) return "/var/lib/platform/stretch-state.json";
        var state = environment("XDG_STATE_HOME") is { Length: > 0 } xdg
            ? xdg
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".local", "state");
        return Path.Combine(state, "platform", "stretch-state.json");
    }
}
