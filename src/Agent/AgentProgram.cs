namespace Platform.Agent;

/// <summary>The node agent's entry point (<c>platform agent ...</c>).</summary>
public static class AgentProgram
{
    /// <summary>Runs the agent with its command-line arguments; returns the process exit code.</summary>
    public static Task<int> RunAsync(string[] args, CancellationToken cancellationToken)
    {
        Console.Error.WriteLine("platform agent: the node agent is not part of this build");
        return Task.FromResult(1);
    }
}
