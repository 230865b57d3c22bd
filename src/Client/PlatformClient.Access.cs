namespace Platform.Client;

public sealed partial class PlatformClient
{
    /// <summary>POST /v1/access/tokens: makes a token with <paramref name="scopes"/> (and a lifetime, a Go duration such as <c>720h</c>); needs scope admin.</summary>
    public async Task<CreatedToken> CreateTokenAsync(string name, IReadOnlyList<string> scopes, string? expiresIn = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/access/tokens") { Content = JsonBody(new { name, scopes, expiresIn }) };
        using var doc = await SendForJsonAsync(request, cancellationToken).ConfigureAwait(false);
        return System.Text.Json.JsonSerializer.Deserialize<CreatedToken>(doc.RootElement, s_json)
            ?? throw new System.Text.Json.JsonException("POST /v1/access/tokens answered the JSON null");
    }

    /// <summary>GET /v1/access/tokens: every token, revoked and expired ones too.</summary>
    public Task<List<TokenInfo>> ListTokensAsync(CancellationToken cancellationToken = default)
        => GetJsonAsync<List<TokenInfo>>("/v1/access/tokens", cancellationToken);

    /// <summary>DELETE /v1/access/tokens/{name}: revokes the token (by name or id); every silo refuses it within seconds.</summary>
    public async Task<TokenInfo> RevokeTokenAsync(string name, CancellationToken cancellationToken = default)
    {
        using var doc = await SendForJsonAsync(new HttpRequestMessage(HttpMethod.Delete, $"/v1/access/tokens/{Escape(name)}"), cancellationToken).ConfigureAwait(false);
        return System.Text.Json.JsonSerializer.Deserialize<TokenInfo>(doc.RootElement, s_json)
            ?? throw new System.Text.Json.JsonException("DELETE /v1/access/tokens answered the JSON null");
    }

    /// <summary>GET /v1/access/audit: the latest <paramref name="limit"/> audit entries, oldest first.</summary>
    public Task<List<AuditRecord>> GetAuditAsync(int limit = 100, CancellationToken cancellationToken = default)
        => GetJsonAsync<List<AuditRecord>>($"/v1/access/audit?limit={limit}", cancellationToken);
}
