using Platform.Cli;

using var interrupted = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C: cancel the command (a monitor ends normally); the second one ends the process.
    if (interrupted.IsCancellationRequested) return;
    e.Cancel = true;
    interrupted.Cancel();
};
return await PlatformCli.RunAsync(args, new CliContext(Console.Out, Console.Error), interrupted.Token);
