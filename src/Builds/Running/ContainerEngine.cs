using System.Diagnostics;
using System.Globalization;
using Platform.Builds.Pipelines;

namespace Platform.Builds.Running;

/// <summary>
/// A container engine's CLI (podman, or docker: the same flags) that runs steps with an <c>image</c>: the checkout
/// bind-mounted at <see cref="Workspace"/>, the step's environment, its memory limit and network, a name per job so a
/// cancel can signal it. Images are local; the engine is never asked to pull.
/// </summary>
public sealed class ContainerEngine
{
    /// <summary>Where the checkout appears inside the container (and the step's working directory).</summary>
    public const string Workspace = "/workspace";

    /// <summary>An engine run as <paramref name="command"/> (a name on PATH or a path), with <paramref name="environment"/> added to its own.</summary>
    public ContainerEngine(string command, IReadOnlyDictionary<string, string>? environment = null)
    {
        Command = command;
        Environment = environment ?? new Dictionary<string, string>();
    }

    /// <summary>The engine's command, as configured.</summary>
    public string Command { get; }

    /// <summary>Variables the engine itself runs with (for example <c>CONTAINERS_CONF</c>), besides the host's.</summary>
    public IReadOnlyDictionary<string, string> Environment { get; }

    /// <summary>The engine's name as reported to the silo: the command's file name (podman, docker).</summary>
    public string Name => Path.GetFileName(Command);

    /// <summary>
    /// The engine configured by <paramref name="setting"/>: null or empty finds <c>podman</c> on PATH;
    /// <c>none</c> is no engine; anything else is a command name or path that must exist. Null when there is none.
    /// </summary>
    public static ContainerEngine? Find(string? setting)
    {
        if (string.Equals(setting, "none", StringComparison.Ordinal)) return null;
        if (string.IsNullOrEmpty(setting))
        {
            return OnPath("podman") is { } found ? new ContainerEngine(found) : null;
        }
        if (setting.Contains('/')) return File.Exists(setting) ? new ContainerEngine(setting) : null;
        return OnPath(setting) is { } path ? new ContainerEngine(path) : null;
    }

    /// <summary>The container name of a job's attempt (what cancel kills).</summary>
    public static string ContainerName(string jobId, int attempt)
    {
        Span<char> name = stackalloc char[Math.Min(jobId.Length, 100)];
        for (var i = 0; i < name.Length; i++) name[i] = char.IsAsciiLetterOrDigit(jobId[i]) || jobId[i] is '-' or '_' or '.' ? jobId[i] : '_';
        return string.Create(CultureInfo.InvariantCulture, $"platform-job-{name}-{attempt}");
    }

    /// <summary>
    /// The engine command that runs <paramref name="step"/> in <paramref name="container"/> named <paramref name="name"/>.
    /// Values go to the engine through its own environment and only names on its command line, so no secret shows in ps.
    /// </summary>
    public StepCommand RunCommand(PipelineStep step, ContainerSpec container, string name, string checkout, IReadOnlyDictionary<string, string> stepEnvironment)
    {
        var args = new List<string> { "run", "--rm", "--name", name, "--pull", "never", "--network", container.Network };
        if (container.MemoryBytes is { } memory) args.AddRange(["--memory", memory.ToString(CultureInfo.InvariantCulture)]);
        args.AddRange(["--volume", $"{Path.GetFullPath(checkout)}:{Workspace}", "--workdir", Workspace]);
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var inherited in JobEnvironment.Inherited)
            if (System.Environment.GetEnvironmentVariable(inherited) is { } value) environment[inherited] = value;
        foreach (var variable in EngineVariables())
            if (System.Environment.GetEnvironmentVariable(variable) is { } value) environment[variable] = value;
        foreach (var (key, value) in Environment) environment[key] = value;
        foreach (var (key, value) in stepEnvironment)
        {
            // The host's PATH and HOME are not the image's.
            if (key is "PATH" or "HOME" or "USER" or "LOGNAME" or "SHELL" or "TMPDIR") continue;
            args.AddRange(["--env", key]);
            environment[key] = value;
        }
        args.Add(container.Image);
        args.Add(Workspace + "/" + step.Run);
        args.AddRange(step.Args);
        return new StepCommand(Command, args, checkout, environment);
    }

    /// <summary>Sends <paramref name="signal"/> to container <paramref name="name"/> (no error when it is gone or not made yet).</summary>
    public async Task KillAsync(string name, int signal)
    {
        var start = new ProcessStartInfo(Command) { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("kill");
        start.ArgumentList.Add("--signal");
        start.ArgumentList.Add(signal.ToString(CultureInfo.InvariantCulture));
        start.ArgumentList.Add(name);
        foreach (var (key, value) in Environment) start.Environment[key] = value;
        using var process = Process.Start(start)!;
        _ = process.StandardOutput.ReadToEndAsync();
        _ = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try { await process.WaitForExitAsync(limit.Token).ConfigureAwait(false); }
        catch (OperationCanceledException) { process.Kill(entireProcessTree: true); }
    }

    /// <summary>
    /// A shell command that removes container <paramref name="name"/> at once, running or not: what a step's guard runs
    /// when its agent is gone (the container runs under the engine's monitor, outside the step's process group).
    /// </summary>
    public string RemoveNowShellCommand(string name) => $"{Quote(Command)} rm --force --time 0 {Quote(name)}";

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    // The engine's own configuration and storage variables (CONTAINERS_CONF above all) pass through to it.
    private static string[] EngineVariables() => ["CONTAINERS_CONF", "CONTAINERS_STORAGE_CONF", "CONTAINERS_REGISTRIES_CONF", "XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "DOCKER_HOST", "DOCKER_CONFIG"];

    private static string? OnPath(string name)
    {
        foreach (var dir in (System.Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var path = Path.Combine(dir, name);
            if (File.Exists(path)) return path;
        }
        return null;
    }
}
