namespace Platform.Cli;

/// <summary><c>platform agent ...</c>: every argument after <c>agent</c> goes unchanged to the node agent.</summary>
public static class AgentCommand
{
    /// <summary>Runs the node agent until it stops; its exit code is the command's.</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
        => Platform.Agent.AgentProgram.RunAsync(args, cancellationToken);
}
