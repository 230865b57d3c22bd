namespace Platform.Grains.Access;

/// <summary>
/// One audited action: when, who (a token's name, or <c>anonymous</c> on an open silo), what (<c>event.fire</c>,
/// <c>query.run</c>, <c>token.create</c>, …), on what, from which address and through which silo.
/// </summary>
public sealed record AuditEntry(DateTimeOffset At, string Actor, string Action, string Target, string? Address, string Silo);
