using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Console;
using Platform.Agent.Configuration;
using Platform.Agent.Connection;

namespace Platform.Agent;

/// <summary><c>platform agent</c>: parses flags and configuration, runs a <see cref="NodeAgent"/> until a signal or a fatal error.</summary>
public static partial class AgentProgram
{
    /// <summary>
    /// Runs the agent with <paramref name="args"/> (what follows <c>platform agent</c>). SIGTERM, SIGINT or
    /// <paramref name="cancellationToken"/> make it leave gracefully and return 0; SIGINT under <c>skip_leave_on_interrupt</c>
    /// and SIGTERM under <c>leave_on_terminate: false</c> exit 1 without a leave, as Serf's agent does; see <see cref="AgentExitCodes"/>.
    /// </summary>
    public static async Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        CommandLine commandLine;
        try
        {
            commandLine = CommandLine.Parse(args);
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return AgentExitCodes.ConfigError;
        }
        if (commandLine.Help)
        {
            await Console.Out.WriteLineAsync(CommandLine.Usage).ConfigureAwait(false);
            return AgentExitCodes.Ok;
        }

        // Config files log their ignored keys at debug: the level is known only once they are read, so read them twice
        // (the first time silently) rather than lose those lines.
        AgentSettings settings;
        try
        {
            using var early = CreateLoggerFactory(new LogLevelSwitch(AgentSettings.Load(commandLine).LogLevel));
            settings = AgentSettings.Load(commandLine, early.CreateLogger("Platform.Agent"));
        }
        catch (ConfigException e)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return AgentExitCodes.ConfigError;
        }

        var level = new LogLevelSwitch(settings.LogLevel);
        using var loggerFactory = CreateLoggerFactory(level);
        var logger = loggerFactory.CreateLogger("Platform.Agent");
        NodeAgent agent;
        try
        {
            agent = new NodeAgent(settings, loggerFactory);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException or CryptographicException)
        {
            await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return AgentExitCodes.Error;
        }

        await using (agent.ConfigureAwait(false))
        {
            var stop = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            var forced = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var signals = 0;
            void OnSignal(PosixSignalContext context)
            {
                context.Cancel = true;
                if (Interlocked.Increment(ref signals) > 1)
                {
                    forced.TrySetResult();
                    return;
                }
                var leave = context.Signal == PosixSignal.SIGINT ? !settings.SkipLeaveOnInterrupt : settings.LeaveOnTerminate;
                LogSignal(logger, context.Signal, leave ? "leaving gracefully" : "exiting without a leave");
                stop.TrySetResult(leave);
            }
            using var term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
            using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
            using var cancelled = cancellationToken.Register(() => stop.TrySetResult(true));
            var reloads = new SemaphoreSlim(1, 1);
            using var hangup = PosixSignalRegistration.Create(PosixSignal.SIGHUP, context =>
            {
                // Serf reloads its configuration on SIGHUP instead of exiting.
                context.Cancel = true;
                _ = Task.Run(() => ReloadAsync(commandLine, agent, level, logger, reloads));
            });

            try
            {
                await agent.StartAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (IOException e)
            {
                await Console.Error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return AgentExitCodes.Error;
            }
            await Task.WhenAny(agent.Completion, stop.Task).ConfigureAwait(false);

            var leftBySignal = true;
            if (stop.Task.IsCompleted)
            {
                leftBySignal = stop.Task.Result;
                var stopping = agent.StopAsync(leave: leftBySignal);
                if (await Task.WhenAny(stopping, forced.Task).ConfigureAwait(false) == forced.Task)
                {
                    await Console.Error.WriteLineAsync("error: a second signal: exiting without waiting for the leave").ConfigureAwait(false);
                    return AgentExitCodes.Error;
                }
                await stopping.ConfigureAwait(false);
            }
            try
            {
                await agent.Completion.ConfigureAwait(false);
                await agent.StopAsync(leave: false).ConfigureAwait(false);
                // Serf's agent exits 1 when a signal ends it without a graceful leave.
                return leftBySignal ? AgentExitCodes.Ok : AgentExitCodes.Error;
            }
            catch (AgentRefusedException e)
            {
                var hint = !e.Error.StartsWith("access refused", StringComparison.Ordinal) ? $"is another agent running as '{settings.NodeName}'?"
                    : e.Error.Contains("client certificate", StringComparison.Ordinal)
                        ? "does the agent present a certificate signed by the silo's client CA? (the 'cert_file' and 'key_file' config keys)"
                        : "does the agent have a token with scope agent? (-token, the 'token' config key, or PLATFORM_TOKEN)";
                await Console.Error.WriteLineAsync($"error: {e.Message}; not retrying ({hint})").ConfigureAwait(false);
                return AgentExitCodes.Refused;
            }
            catch (Exception e)
            {
                await Console.Error.WriteLineAsync($"error: the agent stopped: {e.Message}").ConfigureAwait(false);
                return AgentExitCodes.Error;
            }
        }
    }

    /// <summary>SIGHUP: reads the configuration files and flags again and applies what Serf applies (log level, handlers, tags); a bad file keeps the running configuration.</summary>
    private static async Task ReloadAsync(CommandLine commandLine, NodeAgent agent, LogLevelSwitch level, ILogger logger, SemaphoreSlim reloads)
    {
        await reloads.WaitAsync().ConfigureAwait(false);
        try
        {
            LogReloading(logger);
            AgentSettings settings;
            try
            {
                settings = AgentSettings.Load(commandLine, logger);
            }
            catch (ConfigException e)
            {
                LogReloadRefused(logger, e.Message);
                return;
            }
            level.Level = settings.LogLevel;
            await agent.ReloadAsync(settings).ConfigureAwait(false);
        }
        catch (Exception e)
        {
            LogReloadFailed(logger, e);
        }
        finally
        {
            reloads.Release();
        }
    }

    private static ILoggerFactory CreateLoggerFactory(LogLevelSwitch level) => LoggerFactory.Create(builder => builder
        .SetMinimumLevel(LogLevel.Trace)
        .AddFilter(l => l >= level.Level)
        .AddSimpleConsole(options =>
        {
            options.SingleLine = true;
            options.TimestampFormat = "yyyy/MM/dd HH:mm:ss ";
            options.UseUtcTimestamp = true;
        })
        .Services.Configure<ConsoleLoggerOptions>(options => options.LogToStandardErrorThreshold = LogLevel.Trace));
}
