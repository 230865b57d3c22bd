using System.Collections.Concurrent;
using Platform.Grains.Access;

namespace Platform.Silo.Access;

/// <summary>
/// Decides every request from this silo's copy of the tokens, without a grain call: who the credential is, whether
/// its token is in force, and whether it holds the scope. Counts what it refuses. The copy is kept by
/// <see cref="AccessSync"/>.
/// </summary>
public sealed class AccessControl(TimeProvider time)
{
    /// <summary>The name audit entries give callers of an open silo.</summary>
    public const string Anonymous = "anonymous";

    /// <summary>The requirement of a route that any token in force may call, whatever its scopes (<c>/v1/access/whoami</c>).</summary>
    public const string AnyScope = "";

    private volatile TokenTable _table = TokenTable.Empty;
    private volatile bool _loaded;
    private volatile bool _openWhenEmpty;
    private long _unauthenticated;
    private long _forbidden;
    private long _rateLimited;
    private readonly ConcurrentDictionary<string, long> _forbiddenByScope = new(StringComparer.Ordinal);

    public AccessControl() : this(TimeProvider.System)
    {
    }

    /// <summary>True once the tokens were read and everything is allowed: no token in force, and the silo listens on loopback only (or was told --insecure).</summary>
    public bool IsOpen => _loaded && _openWhenEmpty && _table.InForce == 0;

    /// <summary>True once the tokens were read at start.</summary>
    public bool IsLoaded => _loaded;

    /// <summary>The version of the token set this silo holds.</summary>
    public long Version => _table.Version;

    /// <summary>Tokens in force (not revoked).</summary>
    public int TokensInForce => _table.InForce;

    /// <summary>Takes <paramref name="set"/> when it is newer than the copy held.</summary>
    public void Apply(TokenSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        lock (_forbiddenByScope)
        {
            var current = _table;
            if (current != TokenTable.Empty && set.Version <= current.Version) return;
            _table = new TokenTable(set);
        }
    }

    /// <summary>Marks the tokens read; <paramref name="openWhenEmpty"/>: whether no token in force means everything is allowed.</summary>
    public void Loaded(bool openWhenEmpty)
    {
        _openWhenEmpty = openWhenEmpty;
        _loaded = true;
    }

    /// <summary>
    /// Decides a request that brings an <c>Authorization</c> header value (Bearer or basic auth): the synchronous check
    /// for code below the HTTP layer. <paramref name="key"/> is the keyspace path for the keys scopes.
    /// </summary>
    public AccessDecision Authorize(string? authorizationHeader, string scope, string? key, bool count = true)
    {
        var credential = Credential.FromAuthorization(authorizationHeader, out var problem);
        if (problem is not null && !IsOpen)
        {
            var refused = AccessDecision.Unauthenticated(problem, scope);
            return count ? Count(refused) : refused;
        }
        return Authorize(credential, scope, key, count);
    }

    /// <summary>
    /// Decides a request presenting <paramref name="credential"/> (null: none) for <paramref name="scope"/>, counting a refusal
    /// unless <paramref name="count"/> is false (the caller decides further and counts with <see cref="Refused"/>).
    /// </summary>
    public AccessDecision Authorize(Credential? credential, string scope, string? key, bool count = true)
    {
        var decision = Decide(credential, scope, key);
        return decision.Allowed || !count ? decision : Count(decision);
    }

    /// <summary>Counts a refusal decided without counting (see <see cref="Authorize(Credential?, string, string?, bool)"/>).</summary>
    public AccessDecision Refused(AccessDecision decision) => decision.Allowed ? decision : Count(decision);

    /// <summary>
    /// Whether a request with this <c>Authorization</c> value would be allowed, without counting a refusal: the etcd fast
    /// path asks, and hands what is not allowed to the HTTP layer, whose check answers, counts and logs it.
    /// </summary>
    public bool Allows(string? authorizationHeader, string scope, string? key)
    {
        if (IsOpen) return true;
        var credential = Credential.FromAuthorization(authorizationHeader, out var problem);
        return problem is null && Decide(credential, scope, key).Allowed;
    }

    private AccessDecision Decide(Credential? credential, string scope, string? key)
    {
        if (!_loaded) return new AccessDecision(503, "the silo is still reading its access tokens; retry in a moment", "", scope);
        var table = _table;
        if (table.InForce == 0 && _openWhenEmpty) return AccessDecision.Allow(Anonymous, scope);
        if (credential is not { } presented)
            return AccessDecision.Unauthenticated($"a token is required for {Describe(scope, key)} and none was sent", scope);
        if (!TokenSecrets.TryGetId(presented.Secret, out var id))
            return AccessDecision.Unauthenticated($"the token is malformed: expected 'plt_' followed by 60 characters, as 'platform token create' prints", scope);
        if (!table.ById.TryGetValue(id, out var entry) || !TokenSecrets.Matches(presented.Secret, entry.Token.SecretHash))
            return AccessDecision.Unauthenticated("the token is not valid: no token with this secret exists", scope);
        var token = entry.Token;
        if (presented.User is { Length: > 0 } user && user != token.Name)
            return AccessDecision.Unauthenticated($"user name '{user}' is not the token's name; with basic auth the user name is the token's name and the password its secret", scope);
        if (token.RevokedAt is { } revoked)
            return AccessDecision.Unauthenticated($"token '{token.Name}' was revoked at {revoked:u}", scope);
        if (token.ExpiresAt is { } expires && time.GetUtcNow() >= expires)
            return AccessDecision.Unauthenticated($"token '{token.Name}' expired at {expires:u}", scope);
        if (scope.Length == 0) return AccessDecision.Allow(token.Name, scope);
        foreach (var grant in entry.Grants)
        {
            if (Allows(grant, scope, key)) return AccessDecision.Allow(token.Name, scope);
        }
        return AccessDecision.Forbidden($"token '{token.Name}' lacks scope {Quoted(scope)}{(key is null ? "" : $" for key '{key}'")} (it has {string.Join(", ", token.Scopes)})", token.Name, scope);
    }

    /// <summary>The token in force named <paramref name="name"/> (names are unique among tokens not revoked), or null.</summary>
    public AccessToken? TokenNamed(string name)
    {
        foreach (var entry in _table.ById.Values)
        {
            if (entry.Token.Name == name && entry.Token.RevokedAt is null) return entry.Token;
        }
        return null;
    }

    /// <summary>Counts a request refused by a rate limit.</summary>
    public void CountRateLimited() => Interlocked.Increment(ref _rateLimited);

    /// <summary>What was refused since start, for /v1/cluster and /v1/access/stats.</summary>
    public AccessCounters Counters() => new(
        Interlocked.Read(ref _unauthenticated),
        Interlocked.Read(ref _forbidden),
        Interlocked.Read(ref _rateLimited),
        new SortedDictionary<string, long>(_forbiddenByScope, StringComparer.Ordinal));

    private AccessDecision Count(AccessDecision decision)
    {
        if (decision.Status == 401) Interlocked.Increment(ref _unauthenticated);
        else if (decision.Status == 403)
        {
            Interlocked.Increment(ref _forbidden);
            _forbiddenByScope.AddOrUpdate(decision.Scope, 1, static (_, n) => n + 1);
        }
        return decision;
    }

    private static string Describe(string scope, string? key)
        => scope.Length == 0 ? "this request" : key is null ? $"scope {Quoted(scope)}" : $"key '{key}' (scope {Quoted(scope)})";

    /// <summary>A route may accept any one of several scopes (<see cref="AccessScopes.Alternative"/>); most name one.</summary>
    private static bool Allows(ScopeGrant grant, string scope, string? key)
    {
        if (!scope.Contains(AccessScopes.Alternative, StringComparison.Ordinal)) return grant.Allows(scope, key);
        foreach (var one in scope.Split(AccessScopes.Alternative))
        {
            if (grant.Allows(one, key)) return true;
        }
        return false;
    }

    /// <summary><c>'build'</c>, or <c>'build' or 'deploy'</c> for alternatives.</summary>
    private static string Quoted(string scope) => "'" + scope.Replace(AccessScopes.Alternative, "' or '", StringComparison.Ordinal) + "'";
}

/// <summary>Refusals since the silo started: 401s, 403s (also by missing scope) and 429s.</summary>
public sealed record AccessCounters(long Unauthenticated, long Forbidden, long RateLimited, IReadOnlyDictionary<string, long> ForbiddenByScope);
