namespace Platform.Cli.Output;

/// <summary>The one-line answers of Serf's commands, word for word.</summary>
public static class SerfMessages
{
    /// <summary><c>serf event</c>'s answer.</summary>
    public static string EventDispatched(string name, bool coalesce) => $"Event '{name}' dispatched! Coalescing enabled: {(coalesce ? "true" : "false")}";

    /// <summary><c>serf tags</c>' answer.</summary>
    public const string TagsUpdated = "Successfully updated agent tags";

    /// <summary><c>serf leave</c>'s answer.</summary>
    public const string LeaveComplete = "Graceful leave complete";
}
