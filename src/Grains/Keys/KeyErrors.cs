namespace Platform.Grains.Keys;

/// <summary>etcd v2's error codes (etcd <c>error/error.go</c>), numbered as etcd numbers them on the wire.</summary>
public enum KeyErrorCode
{
    // Command related errors.
    KeyNotFound = 100,
    TestFailed = 101,
    NotFile = 102,
    NoMorePeer = 103,
    NotDir = 104,
    NodeExist = 105,
    KeyIsPreserved = 106,
    RootReadOnly = 107,
    DirNotEmpty = 108,
    ExistingPeerAddress = 109,
    Unauthorized = 110,

    // Form related errors.
    ValueRequired = 200,
    PrevValueRequired = 201,
    TtlNaN = 202,
    IndexNaN = 203,
    ValueOrTtlRequired = 204,
    TimeoutNaN = 205,
    NameRequired = 206,
    IndexOrValueRequired = 207,
    IndexValueMutex = 208,
    InvalidField = 209,
    InvalidForm = 210,
    RefreshValue = 211,
    RefreshTtlRequired = 212,

    // Raft related errors.
    RaftInternal = 300,
    LeaderElect = 301,

    // etcd related errors.
    WatcherCleared = 400,
    EventIndexCleared = 401,
    StandbyInternal = 402,
    InvalidActiveSize = 403,
    InvalidRemoveDelay = 404,

    ClientInternal = 500,
}

/// <summary>
/// The error table: etcd's message and HTTP status for each code, byte for byte as etcd v2 answers
/// (<c>errors</c> and <c>errorStatus</c> in etcd's <c>error/error.go</c>).
/// </summary>
public static class KeyErrors
{
    /// <summary>etcd's fixed message for <paramref name="code"/>; the variable part of an error goes in its cause.</summary>
    public static string Message(KeyErrorCode code) => code switch
    {
        KeyErrorCode.KeyNotFound => "Key not found",
        KeyErrorCode.TestFailed => "Compare failed",
        KeyErrorCode.NotFile => "Not a file",
        KeyErrorCode.NoMorePeer => "Reached the max number of peers in the cluster",
        KeyErrorCode.NotDir => "Not a directory",
        KeyErrorCode.NodeExist => "Key already exists",
        KeyErrorCode.KeyIsPreserved => "The prefix of given key is a keyword in etcd",
        KeyErrorCode.RootReadOnly => "Root is read only",
        KeyErrorCode.DirNotEmpty => "Directory not empty",
        KeyErrorCode.ExistingPeerAddress => "Peer address has existed",
        KeyErrorCode.Unauthorized => "The request requires user authentication",
        KeyErrorCode.ValueRequired => "Value is Required in POST form",
        KeyErrorCode.PrevValueRequired => "PrevValue is Required in POST form",
        KeyErrorCode.TtlNaN => "The given TTL in POST form is not a number",
        KeyErrorCode.IndexNaN => "The given index in POST form is not a number",
        KeyErrorCode.ValueOrTtlRequired => "Value or TTL is required in POST form",
        KeyErrorCode.TimeoutNaN => "The given timeout in POST form is not a number",
        KeyErrorCode.NameRequired => "Name is required in POST form",
        KeyErrorCode.IndexOrValueRequired => "Index or value is required",
        KeyErrorCode.IndexValueMutex => "Index and value cannot both be specified",
        KeyErrorCode.InvalidField => "Invalid field",
        KeyErrorCode.InvalidForm => "Invalid POST form",
        KeyErrorCode.RefreshValue => "Value provided on refresh",
        KeyErrorCode.RefreshTtlRequired => "A TTL must be provided on refresh",
        KeyErrorCode.RaftInternal => "Raft Internal Error",
        KeyErrorCode.LeaderElect => "During Leader Election",
        KeyErrorCode.WatcherCleared => "watcher is cleared due to etcd recovery",
        KeyErrorCode.EventIndexCleared => "The event in requested index is outdated and cleared",
        KeyErrorCode.StandbyInternal => "Standby Internal Error",
        KeyErrorCode.InvalidActiveSize => "Invalid active size",
        KeyErrorCode.InvalidRemoveDelay => "Standby remove delay",
        KeyErrorCode.ClientInternal => "Client Internal Error",
        _ => throw new ArgumentOutOfRangeException(nameof(code), code, "not an etcd v2 error code"),
    };

    /// <summary>The HTTP status etcd answers with for <paramref name="code"/>; every code etcd does not list is 400.</summary>
    public static int HttpStatus(KeyErrorCode code) => code switch
    {
        KeyErrorCode.KeyNotFound => 404,
        KeyErrorCode.NotFile or KeyErrorCode.DirNotEmpty => 403,
        KeyErrorCode.Unauthorized => 401,
        KeyErrorCode.TestFailed or KeyErrorCode.NodeExist => 412,
        KeyErrorCode.RaftInternal or KeyErrorCode.LeaderElect => 500,
        _ => 400,
    };
}

/// <summary>
/// A keys operation that failed the way etcd v2 fails it: a code from the table, the input-specific
/// <see cref="Cause"/>, and the store's index when it failed (etcd's <c>index</c> field and <c>X-Etcd-Index</c>).
/// </summary>
public sealed class KeyException : Exception
{
    public KeyException(KeyErrorCode code, string cause, ulong index)
        : base(KeyErrors.Message(code) + " (" + cause + ")")
    {
        Code = code;
        Cause = cause;
        Index = index;
    }

    /// <summary>The etcd error code (<c>errorCode</c> on the wire).</summary>
    public KeyErrorCode Code { get; }

    /// <summary>etcd's fixed message for the code (<c>message</c> on the wire).</summary>
    public string EtcdMessage => KeyErrors.Message(Code);

    /// <summary>What was wrong with this request (<c>cause</c> on the wire), e.g. the key that was not found.</summary>
    public string Cause { get; }

    /// <summary>The store's current index when the operation failed (<c>index</c> on the wire).</summary>
    public ulong Index { get; }

    /// <summary>The HTTP status etcd answers this error with.</summary>
    public int HttpStatus => KeyErrors.HttpStatus(Code);
}
