namespace Platform.Cli;

/// <summary><c>platform stretch ...</c>: a drop-in for the <c>stretcher</c> binary; every argument after <c>stretch</c> is its own.</summary>
public static class StretchCommand
{
    /// <summary>Deploys the manifest named on standard input; the exit code is Stretcher's (docs/deploys.md).</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
        => Platform.Agent.Deploy.StretchProgram.RunAsync(args, Console.In, Console.Out, Console.Error, Environment.GetEnvironmentVariable, TimeProvider.System, cancellationToken);
}
