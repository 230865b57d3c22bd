using System.Text.RegularExpressions;
using Platform.Grains.Access;
using Platform.Protocol;
using Platform.Silo.Endpoints.Nodes;

namespace Platform.Silo.Access;

/// <summary>
/// <c>/v1/access</c> (scope <c>admin</c>): tokens (create, list, revoke), the audit log and the refusal counters.
/// A secret is in the answer to its creation only.
/// </summary>
public static partial class AccessEndpoints
{
    /// <summary>Any token in force may ask who it is (not only admins): the dashboard hides what its scopes do not allow.</summary>
    public const string WhoAmIPath = "/v1/access/whoami";

    public static IEndpointRouteBuilder MapAccessEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapGet(WhoAmIPath, WhoAmI);
        var group = app.MapGroup("/v1/access");
        group.MapGet("/tokens", List);
        group.MapPost("/tokens", Create);
        group.MapDelete("/tokens/{name}", Revoke);
        group.MapGet("/audit", Audit);
        group.MapGet("/stats", (AccessControl access) => TypedResults.Ok(new AccessStats(access.IsOpen, access.TokensInForce, access.Version, access.Counters())));
        return app;
    }

    /// <summary>The caller's token: its name, scopes and expiry; an open silo says it is open (everything is allowed, as with admin).</summary>
    private static IResult WhoAmI(HttpContext context, AccessControl access)
    {
        if (access.IsOpen || !AccessMiddleware.HasToken(context))
            return TypedResults.Ok(new WhoAmIView(AccessControl.Anonymous, [AccessScopes.Admin], true, null));
        var name = AccessMiddleware.ActorOf(context);
        // Revoked between the check and here: answer as the check would now.
        if (access.TokenNamed(name) is not { } token) return NodesJson.Error(401, $"token '{name}' is no longer in force");
        return TypedResults.Ok(new WhoAmIView(token.Name, token.Scopes, false, token.ExpiresAt));
    }

    private static async Task<IResult> List(AccessSync sync)
    {
        var set = await sync.Grain.Tokens();
        return TypedResults.Ok(set.Tokens.Select(View).ToList());
    }

    private static async Task<IResult> Create(HttpContext context, AccessSync sync, AccessControl access, AuditLog audit, TokenRequest? body)
    {
        if (body is null) return NodesJson.Error(400, "the body must be JSON such as {\"name\":\"ci\",\"scopes\":[\"keys:write:/build/\"],\"expiresIn\":\"720h\"}");
        var (token, secret, error) = Make(body, AccessMiddleware.ActorOf(context), TimeProvider.System.GetUtcNow());
        if (error is not null) return NodesJson.Error(400, error);
        if (access.IsOpen && !token!.Scopes.Contains(AccessScopes.Admin))
            return NodesJson.Error(400, $"token '{token.Name}' would be the first: it must have scope admin, or no one could manage tokens once it exists");
        var change = await sync.Grain.Create(token!);
        access.Apply(change.Set);
        if (change.Error is not null) return NodesJson.Error(409, change.Error);
        await audit.RecordAsync(context, "token.create", $"{token!.Name} ({string.Join(' ', token.Scopes)})");
        return TypedResults.Json(new CreatedTokenView(View(token), secret!), statusCode: 201);
    }

    private static async Task<IResult> Revoke(HttpContext context, string name, AccessSync sync, AccessControl access, AuditLog audit)
    {
        var change = await sync.Grain.Revoke(name);
        access.Apply(change.Set);
        if (change.Error is not null) return NodesJson.Error(404, change.Error);
        await audit.RecordAsync(context, "token.revoke", change.Token!.Name);
        return TypedResults.Ok(View(change.Token));
    }

    private static async Task<IResult> Audit(AuditLog audit, int? limit)
    {
        var count = limit ?? 100;
        if (count is < 1 or > 1000) return NodesJson.Error(400, $"limit {count} is out of range; expected 1 to 1000");
        return TypedResults.Ok(await audit.RecentAsync(count));
    }

    /// <summary>Checks a creation request and makes the token and its secret, or names what is wrong.</summary>
    internal static (AccessToken? Token, string? Secret, string? Error) Make(TokenRequest body, string createdBy, DateTimeOffset now)
    {
        if (string.IsNullOrEmpty(body.Name) || !NamePattern().IsMatch(body.Name))
            return (null, null, $"token name '{body.Name}' is not valid; expected 1 to 64 letters, digits, '.', '_' or '-'");
        if (body.Scopes is not { Count: > 0 })
            return (null, null, $"token '{body.Name}' has no scopes; expected at least one of {string.Join(", ", AccessScopes.All)}");
        var scopes = new List<string>(body.Scopes.Count);
        foreach (var text in body.Scopes)
        {
            try
            {
                scopes.Add(AccessScopes.Parse(text ?? "").ToString());
            }
            catch (FormatException e)
            {
                return (null, null, e.Message);
            }
        }
        DateTimeOffset? expires = null;
        if (!string.IsNullOrEmpty(body.ExpiresIn))
        {
            if (!GoDuration.TryParse(body.ExpiresIn, out var ttl) || ttl <= TimeSpan.Zero)
                return (null, null, $"expiresIn '{body.ExpiresIn}' is not a positive duration; expected a number with a unit, such as 1h, 720h or 30m");
            expires = now + ttl;
        }
        var (id, secret) = TokenSecrets.Create();
        return (new AccessToken(id, body.Name, TokenSecrets.Hash(secret), scopes, now, expires, null, createdBy), secret, null);
    }

    internal static TokenView View(AccessToken t) => new(t.Id, t.Name, t.Scopes, t.CreatedAt, t.ExpiresAt, t.RevokedAt, t.CreatedBy,
        t.RevokedAt is not null ? "revoked" : t.ExpiresAt is { } e && e <= DateTimeOffset.UtcNow ? "expired" : "active");

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex NamePattern();
}

/// <summary>Body of POST /v1/access/tokens: a name, scopes and an optional lifetime (a Go duration).</summary>
public sealed record TokenRequest(string? Name, List<string?>? Scopes, string? ExpiresIn);

/// <summary>A token as the API shows it: never its secret or hash.</summary>
public sealed record TokenView(string Id, string Name, IReadOnlyList<string> Scopes, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string CreatedBy, string State);

/// <summary>The answer to a creation: the token and its secret, shown this once.</summary>
public sealed record CreatedTokenView(TokenView Token, string Secret);

/// <summary>GET /v1/access/whoami: the caller's token name and scopes; <paramref name="Open"/> when the silo needs no token.</summary>
public sealed record WhoAmIView(string Name, IReadOnlyList<string> Scopes, bool Open, DateTimeOffset? ExpiresAt);

/// <summary>GET /v1/access/stats.</summary>
public sealed record AccessStats(bool Open, int TokensInForce, long Version, AccessCounters Refused);
