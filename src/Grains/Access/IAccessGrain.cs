using Platform.Runtime;

namespace Platform.Grains.Access;

/// <summary>
/// The cluster's tokens (<c>access/default</c>): durable, and pushed to every silo that subscribed, so a silo answers
/// each request from its own copy.
/// </summary>
public interface IAccessGrain : IGrainWithStringKey
{
    /// <summary>Subscribes (or renews) silo <paramref name="key"/>'s copy; returns the current set.</summary>
    Task<TokenSet> Subscribe(IAccessObserver observer, string key);

    /// <summary>The current set.</summary>
    [ReadOnly]
    Task<TokenSet> Tokens();

    /// <summary>Adds <paramref name="token"/>; refused when its name is taken by a token that is not revoked.</summary>
    Task<TokenChange> Create(AccessToken token);

    /// <summary>Revokes the token named <paramref name="name"/> (or with that id); refused when there is none.</summary>
    Task<TokenChange> Revoke(string name);

    /// <summary>Adds <paramref name="token"/> only if the cluster has never had a token; null Token in the answer otherwise.</summary>
    Task<TokenChange> Bootstrap(AccessToken token);
}

/// <summary>A silo's copy of the tokens, told about every change.</summary>
public interface IAccessObserver : IGrainObserver
{
    [OneWay]
    Task OnTokens(TokenSet set);
}
