namespace Platform.Client;

/// <summary>A token as the silos show it (never its secret): state is <c>active</c>, <c>expired</c> or <c>revoked</c>.</summary>
public sealed record TokenInfo(string Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string CreatedBy, string State);

/// <summary>A token just made, with its secret: the only time the secret is shown.</summary>
public sealed record CreatedToken(TokenInfo Token, string Secret);

/// <summary>One entry of the audit log: who did what, on what, from where, through which silo.</summary>
public sealed record AuditRecord(DateTimeOffset At, string Actor, string Action, string Target, string? Address, string Silo);
