namespace Platform.Grains.Access;

/// <summary>
/// A token as stored: its id (the part of the secret that finds it), name, the SHA-256 of its secret, scopes,
/// and when it was made, expires and was revoked. The secret itself is never stored.
/// </summary>
public sealed record AccessToken(
    string Id,
    string Name,
    byte[] SecretHash,
    List<string> Scopes,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    string CreatedBy);

/// <summary>Every token the cluster knows (revoked ones too, so a revoked token is refused as such), with a version that grows with each change.</summary>
public sealed record TokenSet(long Version, List<AccessToken> Tokens);

/// <summary>What a token change answers: the set afterwards, or why the change was refused.</summary>
public sealed record TokenChange(string? Error, AccessToken? Token, TokenSet Set);
