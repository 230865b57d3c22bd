using System.Buffers;
using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Platform.Protocol;

namespace Platform.Agent.Checks;

/// <summary>
/// A script check, as Consul runs one: <c>args</c> executed directly or <c>script</c> with <c>/bin/sh -c</c>, stdout
/// and stderr into one bounded buffer, exit 0 passing, 1 warning, anything else critical. At the timeout the
/// process and its children are killed and the check is critical.
/// </summary>
internal sealed partial class ScriptProbe(CheckDefinition definition, int outputMaxSize, TimeProvider time, ILogger logger) : ICheckProbe
{
    // After a kill, output still buffered in the pipe is worth this long a wait, not more: an escaped
    // grandchild holding the pipe must not hold the check.
    private static readonly TimeSpan s_drainAfterKill = TimeSpan.FromSeconds(2);

    public async Task<CheckResult> RunAsync(CancellationToken stopping)
    {
        var start = new ProcessStartInfo
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        if (definition.Args is { } args)
        {
            start.FileName = args[0];
            for (var i = 1; i < args.Count; i++) start.ArgumentList.Add(args[i]);
        }
        else
        {
            start.FileName = "/bin/sh";
            start.ArgumentList.Add("-c");
            start.ArgumentList.Add(definition.Script!);
        }

        using var process = new Process { StartInfo = start };
        try
        {
            process.Start();
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            LogStartFailed(logger, definition.Id, start.FileName, e.Message);
            return new CheckResult(CheckStatus.Critical, e.Message);
        }
        // Consul gives a check no stdin.
        process.StandardInput.Close();

        var output = new CheckOutputBuffer(outputMaxSize);
        var pumps = Task.WhenAll(
            PumpAsync(process.StandardOutput.BaseStream, output),
            PumpAsync(process.StandardError.BaseStream, output));

        var timeout = definition.EffectiveTimeout;
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, stopping);
        try
        {
            // Like Go's cmd.Wait: done when the process exited and its output pipes closed.
            await Task.WhenAll(process.WaitForExitAsync(linked.Token), pumps.WaitAsync(linked.Token)).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            KillTree(process);
            // Wait for the exit so a next run never overlaps this one.
            await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
            await pumps.WaitAsync(s_drainAfterKill, CancellationToken.None).ContinueWith(static _ => { }, TaskScheduler.Default).ConfigureAwait(false);
            stopping.ThrowIfCancellationRequested();

            LogTimedOut(logger, definition.Id, timeout);
            var message = $"Timed out ({GoDuration.Format(timeout)}) running check";
            var captured = output.TextWithNote();
            if (captured.Length > 0) message += "\n\n" + captured;
            return new CheckResult(CheckStatus.Critical, message) { SkipsThresholds = true };
        }

        var status = process.ExitCode switch
        {
            0 => CheckStatus.Passing,
            1 => CheckStatus.Warning,
            _ => CheckStatus.Critical,
        };
        return new CheckResult(status, output.TextWithNote());
    }

    private static async Task PumpAsync(Stream stream, CheckOutputBuffer output)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            int read;
            while ((read = await stream.ReadAsync(buffer).ConfigureAwait(false)) > 0)
                output.Write(buffer.AsSpan(0, read));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // It exited between the timeout and the kill.
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or AggregateException)
        {
            LogKillFailed(logger, e, definition.Id, process.Id);
        }
    }
}
