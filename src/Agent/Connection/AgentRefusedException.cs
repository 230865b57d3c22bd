namespace Platform.Agent.Connection;

/// <summary>A silo refused the hello (close 4001): retrying would be refused again, so the agent stops.</summary>
public sealed class AgentRefusedException(Uri server, string error)
    : Exception($"silo {server} refused this agent: {error}")
{
    /// <summary>The silo that refused.</summary>
    public Uri Server { get; } = server;

    /// <summary>The silo's reason.</summary>
    public string Error { get; } = error;
}
