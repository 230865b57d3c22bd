using Microsoft.Extensions.Logging;
using Platform.Runtime;

namespace Platform.Grains.Access;

/// <summary>Stores the tokens and pushes each change to every subscribed silo once it is durable.</summary>
[GrainType("access")]
internal sealed partial class AccessGrain([PersistentState("access")] IPersistentState<AccessState> state, ILogger<AccessGrain> logger) : Grain, IAccessGrain
{
    /// <summary>The one token set of a cluster.</summary>
    public const string DefaultKey = "default";

    /// <summary>A silo that has not renewed for this long is no longer told (it renews every few seconds).</summary>
    private static readonly TimeSpan s_subscriberLifetime = TimeSpan.FromMinutes(2);

    private readonly Dictionary<string, (IAccessObserver Observer, DateTimeOffset Renewed)> _subscribers = new(StringComparer.Ordinal);

    private AccessState S => state.State;

    private TokenSet Current => new(S.Version, [.. S.Tokens]);

    public Task<TokenSet> Subscribe(IAccessObserver observer, string key)
    {
        ArgumentNullException.ThrowIfNull(observer);
        _subscribers[key] = (observer, DateTimeOffset.UtcNow);
        return Task.FromResult(Current);
    }

    public Task<TokenSet> Tokens() => Task.FromResult(Current);

    public async Task<TokenChange> Create(AccessToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (S.Tokens.Exists(t => t.RevokedAt is null && t.Name == token.Name))
            return new TokenChange($"a token named '{token.Name}' exists; revoke it first or choose another name", null, Current);
        if (S.Tokens.Exists(t => t.Id == token.Id))
            return new TokenChange($"token id '{token.Id}' exists", null, Current);
        await Add(token);
        return new TokenChange(null, token, Current);
    }

    public async Task<TokenChange> Revoke(string name)
    {
        var index = S.Tokens.FindIndex(t => t.RevokedAt is null && (t.Name == name || t.Id == name));
        if (index < 0) return new TokenChange($"no token named '{name}' (or with that id) is in force", null, Current);
        var revoked = S.Tokens[index] with { RevokedAt = DateTimeOffset.UtcNow };
        S.Tokens[index] = revoked;
        S.Version++;
        await state.WriteStateAsync();
        Publish();
        return new TokenChange(null, revoked, Current);
    }

    public async Task<TokenChange> Bootstrap(AccessToken token)
    {
        ArgumentNullException.ThrowIfNull(token);
        if (S.HadTokens) return new TokenChange(null, null, Current);
        await Add(token);
        return new TokenChange(null, token, Current);
    }

    private async Task Add(AccessToken token)
    {
        S.Tokens.Add(token);
        S.HadTokens = true;
        S.Version++;
        await state.WriteStateAsync();
        Publish();
    }

    private void Publish()
    {
        var set = Current;
        var now = DateTimeOffset.UtcNow;
        List<string>? gone = null;
        foreach (var (key, (observer, renewed)) in _subscribers)
        {
            if (now - renewed > s_subscriberLifetime)
            {
                (gone ??= []).Add(key);
                continue;
            }
            try
            {
                _ = observer.OnTokens(set).ContinueWith(static (t, s) => LogSiloNotTold((ILogger)s!, t.Exception),
                    logger, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            }
            catch (Exception e)
            {
                LogSiloNotToldThrew(logger, e);
            }
        }
        if (gone is not null)
            foreach (var key in gone) _subscribers.Remove(key);
    }
}
