using Platform.Grains.Access;
using Platform.Silo.Access;

namespace Platform.Silo.Tests.Access;

/// <summary>The decision logic alone: scopes, prefixes, expiry, revocation and the open default, on a manual clock.</summary>
public sealed class AccessControlTests
{
    private sealed class ManualTime(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    private static readonly DateTimeOffset s_start = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    private static (AccessToken Token, string Secret) Token(string name, string[] scopes, DateTimeOffset? expires = null, DateTimeOffset? revoked = null)
    {
        var (id, secret) = TokenSecrets.Create();
        return (new AccessToken(id, name, TokenSecrets.Hash(secret), [.. scopes], s_start, expires, revoked, "test"), secret);
    }

    private static Credential Bearer(string secret) => new(secret, null);

    [Fact]
    public void An_open_silo_allows_everything_until_the_first_token_and_then_asks_for_one()
    {
        var access = new AccessControl(new ManualTime(s_start));
        Assert.Equal(503, access.Authorize((Credential?)null, AccessScopes.KeysRead, "/a").Status);
        access.Loaded(openWhenEmpty: true);
        Assert.Equal((200, AccessControl.Anonymous), (access.Authorize((Credential?)null, AccessScopes.Admin, null).Status, access.Authorize((Credential?)null, AccessScopes.Admin, null).Actor));

        var (token, secret) = Token("ops", ["admin"]);
        access.Apply(new TokenSet(1, [token]));
        Assert.False(access.IsOpen);
        Assert.Equal(401, access.Authorize((Credential?)null, AccessScopes.KeysRead, "/a").Status);
        Assert.Equal((200, "ops"), (access.Authorize(Bearer(secret), AccessScopes.KeysRead, "/a").Status, access.Authorize(Bearer(secret), AccessScopes.KeysRead, "/a").Actor));
    }

    [Fact]
    public void A_silo_that_is_not_open_when_empty_refuses_everything_without_tokens()
    {
        var access = new AccessControl(new ManualTime(s_start));
        access.Loaded(openWhenEmpty: false);
        Assert.Equal(401, access.Authorize((Credential?)null, AccessScopes.KeysRead, "/a").Status);
    }

    [Fact]
    public void A_prefix_scope_allows_keys_under_it_only_and_write_implies_read()
    {
        var access = new AccessControl(new ManualTime(s_start));
        access.Loaded(openWhenEmpty: true);
        var (token, secret) = Token("ci", ["keys:write:/build/", "events:fire"]);
        access.Apply(new TokenSet(1, [token]));
        Assert.True(access.Authorize(Bearer(secret), AccessScopes.KeysWrite, "/build/x").Allowed);
        Assert.True(access.Authorize(Bearer(secret), AccessScopes.KeysRead, "/build/x").Allowed);
        Assert.True(access.Authorize(Bearer(secret), AccessScopes.EventsFire, null).Allowed);
        var outside = access.Authorize(Bearer(secret), AccessScopes.KeysWrite, "/buildx");
        Assert.Equal(403, outside.Status);
        Assert.Contains("token 'ci' lacks scope 'keys:write' for key '/buildx'", outside.Message);
        Assert.Equal(403, access.Authorize(Bearer(secret), AccessScopes.KeysRead, null).Status);
        Assert.Equal(403, access.Authorize(Bearer(secret), AccessScopes.Query, null).Status);
        var counters = access.Counters();
        Assert.Equal(3, counters.Forbidden);
        Assert.Equal((1L, 1L, 1L), (counters.ForbiddenByScope[AccessScopes.KeysWrite], counters.ForbiddenByScope[AccessScopes.KeysRead], counters.ForbiddenByScope[AccessScopes.Query]));
    }

    [Fact]
    public void A_token_is_refused_from_its_expiry_on_and_once_revoked()
    {
        var time = new ManualTime(s_start);
        var access = new AccessControl(time);
        access.Loaded(openWhenEmpty: true);
        var (expiring, expiringSecret) = Token("short", ["keys:read"], expires: s_start.AddMinutes(5));
        var (revoked, revokedSecret) = Token("gone", ["keys:read"], revoked: s_start);
        access.Apply(new TokenSet(2, [expiring, revoked]));

        time.Now = s_start.AddMinutes(5).AddTicks(-1);
        Assert.True(access.Authorize(Bearer(expiringSecret), AccessScopes.KeysRead, "/a").Allowed);
        time.Now = s_start.AddMinutes(5);
        var expired = access.Authorize(Bearer(expiringSecret), AccessScopes.KeysRead, "/a");
        Assert.Equal(401, expired.Status);
        Assert.Contains("token 'short' expired at", expired.Message);

        var gone = access.Authorize(Bearer(revokedSecret), AccessScopes.KeysRead, "/a");
        Assert.Equal(401, gone.Status);
        Assert.Contains("token 'gone' was revoked at", gone.Message);
    }

    [Fact]
    public void An_older_token_set_never_replaces_a_newer_one()
    {
        var access = new AccessControl(new ManualTime(s_start));
        access.Loaded(openWhenEmpty: true);
        var (token, secret) = Token("ops", ["admin"]);
        var (other, _) = Token("other", ["admin"]);
        access.Apply(new TokenSet(2, [token with { RevokedAt = s_start }, other]));
        access.Apply(new TokenSet(1, [token, other]));
        Assert.Equal(401, access.Authorize(Bearer(secret), AccessScopes.Admin, null).Status);
    }

    [Theory]
    [InlineData("Bearer x", 401, "malformed")]
    [InlineData("Token abc", 401, "scheme 'Token' is not supported")]
    [InlineData("Basic !!!", 401, "not base64")]
    public void A_bad_authorization_header_is_refused_with_what_is_wrong(string header, int status, string expected)
    {
        var access = new AccessControl(new ManualTime(s_start));
        access.Loaded(openWhenEmpty: true);
        var (token, _) = Token("ops", ["admin"]);
        access.Apply(new TokenSet(1, [token]));
        var decision = access.Authorize(header, AccessScopes.KeysRead, "/a");
        Assert.Equal(status, decision.Status);
        Assert.Contains(expected, decision.Message);
    }

    [Fact]
    public void Basic_auth_takes_the_token_name_as_user_and_the_secret_as_password()
    {
        var access = new AccessControl(new ManualTime(s_start));
        access.Loaded(openWhenEmpty: true);
        var (token, secret) = Token("ci", ["keys:read"]);
        access.Apply(new TokenSet(1, [token]));
        string Basic(string user, string password) => "Basic " + Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{user}:{password}"));
        Assert.True(access.Authorize(Basic("ci", secret), AccessScopes.KeysRead, "/a").Allowed);
        Assert.Contains("user name 'root' is not the token's name", access.Authorize(Basic("root", secret), AccessScopes.KeysRead, "/a").Message);
    }

    [Theory]
    [InlineData("keys:read", "keys:read", null)]
    [InlineData("keys:write:/app/", "keys:write", "/app/")]
    [InlineData(" admin ", "admin", null)]
    public void Scopes_parse_with_an_optional_key_prefix(string text, string name, string? prefix)
        => Assert.Equal(new ScopeGrant(name, prefix), AccessScopes.Parse(text));

    [Theory]
    [InlineData("keys:wrtie", "scope 'keys:wrtie' is not known")]
    [InlineData("keys:write:app/", "must start with '/'")]
    [InlineData("events:fire:/x", "scope 'events:fire:/x' is not known")]
    public void A_bad_scope_is_refused_naming_it(string text, string expected)
        => Assert.Contains(expected, Assert.Throws<FormatException>(() => AccessScopes.Parse(text)).Message);

    [Theory]
    [InlineData("http://127.0.0.1:8080", true)]
    [InlineData("http://localhost:5000", true)]
    [InlineData("https://[::1]:8443", true)]
    [InlineData("http://0.0.0.0:8080", false)]
    [InlineData("http://[::]:8080", false)]
    [InlineData("http://+:80", false)]
    [InlineData("http://10.0.0.5:8080", false)]
    public void Only_loopback_addresses_count_as_loopback(string address, bool loopback)
        => Assert.Equal(loopback, AccessSetup.IsLoopback(address));

    [Fact]
    public void A_secret_carries_its_id_and_matches_only_its_own_hash()
    {
        var (id, secret) = TokenSecrets.Create();
        Assert.Equal(TokenSecrets.Length, secret.Length);
        Assert.True(TokenSecrets.TryGetId(secret, out var found));
        Assert.Equal(id, found);
        Assert.True(TokenSecrets.Matches(secret, TokenSecrets.Hash(secret)));
        Assert.False(TokenSecrets.Matches(secret, TokenSecrets.Hash(TokenSecrets.Create().Secret)));
        Assert.False(TokenSecrets.TryGetId(secret.AsSpan(0, secret.Length - 1), out _));
        Assert.False(TokenSecrets.TryGetId(string.Concat("plt_", new string('G', 16), secret.AsSpan(20)), out _));
    }
}
