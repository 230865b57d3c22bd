using Platform.Grains.Access;

namespace Platform.Silo.Access;

/// <summary>A silo's read-only copy of the token set, indexed by id, with each token's scopes parsed once.</summary>
internal sealed class TokenTable
{
    public static readonly TokenTable Empty = new(new TokenSet(0, []));

    public TokenTable(TokenSet set)
    {
        Version = set.Version;
        foreach (var token in set.Tokens)
        {
            var grants = new List<ScopeGrant>(token.Scopes.Count);
            foreach (var scope in token.Scopes)
            {
                // Scopes were checked when the token was made; one unknown to this silo (a newer one) grants nothing here.
                try { grants.Add(AccessScopes.Parse(scope)); }
                catch (FormatException) { }
            }
            ById[token.Id] = new Entry(token, [.. grants]);
            if (token.RevokedAt is null) InForce++;
        }
    }

    public long Version { get; }

    public Dictionary<string, Entry> ById { get; } = new(StringComparer.Ordinal);

    /// <summary>Tokens not revoked (expired ones included: they still mean the silo is not open).</summary>
    public int InForce { get; }

    public sealed record Entry(AccessToken Token, ScopeGrant[] Grants);
}
