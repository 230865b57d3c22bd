namespace Platform.Agent.Checks;

/// <summary>How a check finds its status.</summary>
public enum CheckKind
{
    /// <summary>Runs a command (<c>args</c>) or a shell line (<c>script</c>) every interval; the exit code is the status.</summary>
    Script,

    /// <summary>Makes an HTTP request every interval; the response code is the status.</summary>
    Http,

    /// <summary>Opens a TCP connection every interval; connecting is passing.</summary>
    Tcp,

    /// <summary>Holds the status an application last reported; critical when no report comes within the TTL.</summary>
    Ttl,
}
