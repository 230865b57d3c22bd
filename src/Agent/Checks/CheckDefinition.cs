namespace Platform.Agent.Checks;

/// <summary>
/// One check as Consul's agent configuration defines it (<c>check</c> / <c>checks</c>); read by
/// <see cref="CheckDefinitionReader"/>. The keys and their defaults are listed in docs/checks.md.
/// </summary>
public sealed record CheckDefinition
{
    /// <summary>Script checks run at most this long unless <see cref="Timeout"/> says otherwise (Consul's 30 s).</summary>
    public static readonly TimeSpan DefaultScriptTimeout = TimeSpan.FromSeconds(30);

    /// <summary>HTTP and TCP checks wait at most this long unless <see cref="Timeout"/> says otherwise (Consul's 10 s).</summary>
    public static readonly TimeSpan DefaultNetworkTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Consul's floor for <see cref="Interval"/>: a shorter one is raised to it, so a typo cannot fork-bomb the node.</summary>
    public static readonly TimeSpan MinInterval = TimeSpan.FromSeconds(1);

    /// <summary><c>id</c>: unique on the node; defaults to <see cref="Name"/>.</summary>
    public required string Id { get; init; }

    /// <summary><c>name</c>: required.</summary>
    public required string Name { get; init; }

    /// <summary>Which of <c>args</c>, <c>script</c>, <c>http</c>, <c>tcp</c>, <c>ttl</c> the definition has.</summary>
    public required CheckKind Kind { get; init; }

    /// <summary><c>args</c>: the command and its arguments, run without a shell.</summary>
    public IReadOnlyList<string>? Args { get; init; }

    /// <summary><c>script</c>: a line run with <c>/bin/sh -c</c>.</summary>
    public string? Script { get; init; }

    /// <summary><c>http</c>: the absolute http or https URL to request.</summary>
    public Uri? Http { get; init; }

    /// <summary><c>method</c>: the HTTP method; default GET.</summary>
    public string Method { get; init; } = "GET";

    /// <summary><c>header</c>: request headers, each with a list of values.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<string>> Header { get; init; } = new Dictionary<string, IReadOnlyList<string>>();

    /// <summary><c>body</c>: the request body sent with an HTTP check; default none.</summary>
    public string? Body { get; init; }

    /// <summary><c>tcp</c>: <c>host:port</c> to connect to.</summary>
    public string? Tcp { get; init; }

    /// <summary><c>ttl</c>: how long a reported status holds before the check goes critical.</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary><c>interval</c>: time between the end of one run and the start of the next (script, http, tcp).</summary>
    public TimeSpan? Interval { get; init; }

    /// <summary><c>timeout</c>: longest run; default <see cref="DefaultScriptTimeout"/> or <see cref="DefaultNetworkTimeout"/>.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary><c>notes</c>: free text for people, shown by the HTTP API.</summary>
    public string Notes { get; init; } = "";

    /// <summary><c>status</c>: the status before the first run; default critical, as Consul.</summary>
    public string InitialStatus { get; init; } = CheckStatus.Critical;

    /// <summary><c>success_before_passing</c>: consecutive successes needed to leave critical; default 0.</summary>
    public int SuccessBeforePassing { get; init; }

    /// <summary><c>failures_before_warning</c>: consecutive failures before the check shows warning; default <see cref="FailuresBeforeCritical"/>.</summary>
    public int FailuresBeforeWarning { get; init; }

    /// <summary><c>failures_before_critical</c>: consecutive failures needed to become critical; default 0.</summary>
    public int FailuresBeforeCritical { get; init; }

    /// <summary>The timeout in force: <see cref="Timeout"/> or the kind's default.</summary>
    public TimeSpan EffectiveTimeout => Timeout ?? (Kind == CheckKind.Script ? DefaultScriptTimeout : DefaultNetworkTimeout);

    /// <summary>The interval in force: <see cref="Interval"/>, raised to <see cref="MinInterval"/>.</summary>
    public TimeSpan EffectiveInterval => Interval is { } interval && interval > MinInterval ? interval : MinInterval;
}
