namespace Platform.Agent.Checks;

/// <summary>A check's status as Consul names it; the strings are the protocol's and the HTTP API's.</summary>
public static class CheckStatus
{
    /// <summary>The check succeeded.</summary>
    public const string Passing = "passing";

    /// <summary>The check works but reports trouble (script exit 1, HTTP 429).</summary>
    public const string Warning = "warning";

    /// <summary>The check failed, timed out, or its TTL ran out; a new check starts here unless its definition says otherwise.</summary>
    public const string Critical = "critical";

    /// <summary>True for passing, warning and critical.</summary>
    public static bool IsValid(string? status) => status is Passing or Warning or Critical;
}
