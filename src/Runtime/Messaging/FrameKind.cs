namespace Platform.Runtime.Messaging;

/// <summary>The first byte of every silo-to-silo frame.</summary>
internal enum FrameKind : byte
{
    /// <summary>corr, hops, grain id, method wire id, arguments.</summary>
    Request = 1,

    /// <summary>corr, status (0 result, 1 exception), payload.</summary>
    Response = 2,

    /// <summary>hops, grain id, method wire id, arguments; no response.</summary>
    OneWay = 3,

    /// <summary>corr: are you there?</summary>
    Ping = 4,

    /// <summary>corr: answer to Ping or Release.</summary>
    Ack = 5,

    /// <summary>corr, grain id: deactivate your activation of this grain (a new owner takes it), then Ack.</summary>
    Release = 6,

    /// <summary>The membership table changed: read it now rather than at the next refresh.</summary>
    TableChanged = 7,

    /// <summary>corr: the sender is leaving (its row says ShuttingDown); read the membership table, then Ack.</summary>
    Leaving = 8,
}
