namespace Platform.Silo.Access;

/// <summary>
/// The answer to "may this credential do this?": <see cref="Status"/> 200 (allowed), 401 (no, invalid, expired or
/// revoked token), 403 (the token lacks <see cref="Scope"/>) or 503 (the silo has not read its tokens yet), with a
/// message that says which; <see cref="Actor"/> is the token's name (<c>anonymous</c> on an open silo).
/// </summary>
public readonly record struct AccessDecision(int Status, string? Message, string Actor, string Scope)
{
    public bool Allowed => Status == 200;

    public static AccessDecision Allow(string actor, string scope) => new(200, null, actor, scope);

    public static AccessDecision Unauthenticated(string message, string scope) => new(401, message, "", scope);

    public static AccessDecision Forbidden(string message, string actor, string scope) => new(403, message, actor, scope);
}
