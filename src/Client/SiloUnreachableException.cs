namespace Platform.Client;

/// <summary>No silo could be reached: every URL tried is named with what went wrong with it.</summary>
public sealed class SiloUnreachableException(IReadOnlyList<SiloAttempt> attempts, Exception? inner)
    : HttpRequestException(Describe(attempts), inner)
{
    /// <summary>Each silo tried, in order, with its failure.</summary>
    public IReadOnlyList<SiloAttempt> Attempts { get; } = attempts;

    private static string Describe(IReadOnlyList<SiloAttempt> attempts)
        => attempts.Count == 0
            ? "no silo was tried"
            : "no silo answered; tried " + string.Join(", ", attempts.Select(a => $"{a.Url.ToString().TrimEnd('/')} ({a.Error})"));
}

/// <summary>One try of one silo and why it failed.</summary>
public sealed record SiloAttempt(Uri Url, string Error);
