using System.Globalization;

namespace Platform.Runtime.Storage;

/// <summary>An append whose arguments passed the checks: records <see cref="FirstSeq"/>..<see cref="LastSeq"/> of one stream.</summary>
public readonly record struct JournalAppend(string Stream, long Epoch, long FirstSeq, IReadOnlyList<ReadOnlyMemory<byte>> Records)
{
    /// <summary>The sequence number the last record gets.</summary>
    public long LastSeq => FirstSeq + Records.Count - 1;

    /// <summary>What the append does, naming the stream, for error messages.</summary>
    public string Description => string.Create(CultureInfo.InvariantCulture, $"appending records {FirstSeq}..{LastSeq} to journal '{Stream}'");

    /// <summary>Whether a stream with <paramref name="head"/> takes this append.</summary>
    public bool Fits(JournalHead? head) => head is { } current && current.AcceptsAppend(Epoch, FirstSeq);

    /// <summary>The error for this append refused by a stream with <paramref name="head"/> (null: never opened).</summary>
    public InconsistentStateException Refused(JournalHead? head) => GrainJournalChecks.AppendRefused(Stream, Epoch, FirstSeq, head);
}

/// <summary>A snapshot whose arguments passed the checks: the state of one stream after record <see cref="Seq"/>.</summary>
public readonly record struct JournalSnapshot(string Stream, long Epoch, long Seq, ReadOnlyMemory<byte> Data)
{
    /// <summary>What the snapshot does, naming the stream, for error messages.</summary>
    public string Description => string.Create(CultureInfo.InvariantCulture, $"saving the snapshot at {Seq} of journal '{Stream}'");

    /// <summary>Whether a stream with <paramref name="head"/> takes this snapshot (it may still be older than the saved one).</summary>
    public bool Fits(JournalHead? head) => head is { } current && current.AcceptsSnapshot(Epoch, Seq);

    /// <summary>The error for this snapshot refused by a stream with <paramref name="head"/> (null: never opened).</summary>
    public InconsistentStateException Refused(JournalHead? head) => GrainJournalChecks.SnapshotRefused(Stream, Epoch, Seq, head);
}
