namespace Platform.Runtime;

/// <summary>
/// Storage could not be reached or would not take a write (server down, connection lost, disk full). The message is
/// what a client may be told; <see cref="Detail"/> names the server or file and what was being done, for the log only.
/// </summary>
public class StorageUnavailableException : Exception
{
    /// <summary>The message of every instance: nothing about servers, paths or exception types.</summary>
    public const string ClientMessage = "storage unavailable, retry later";

    /// <summary>An instance re-created from another silo's answer: its detail stayed in that silo's log.</summary>
    public StorageUnavailableException()
        : this("storage unavailable on another silo (see its log)", null)
    {
    }

    /// <param name="detail">What failed and where, for the log; never a password.</param>
    /// <param name="inner">The provider's error.</param>
    public StorageUnavailableException(string detail, Exception? inner)
        : base(ClientMessage, inner)
    {
        Detail = detail;
    }

    /// <summary>What failed and where (server or file, operation, the provider's error); for the log, never for a client.</summary>
    public string Detail { get; }

    /// <summary>Whether <paramref name="error"/> or one of its inner exceptions is a storage outage.</summary>
    public static bool IsCauseOf(Exception error)
    {
        for (Exception? cur = error; cur is not null; cur = cur.InnerException)
            if (cur is StorageUnavailableException) return true;
        return false;
    }

    /// <summary>The detail, not the client message, so that logs keep what operators need.</summary>
    public override string ToString()
    {
        var text = $"{GetType().FullName}: {Detail}";
        if (InnerException is { } inner) text += $" ---> {inner}";
        return StackTrace is { } stack ? text + Environment.NewLine + stack : text;
    }
}
