using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Client;

/// <summary>Typed access to a silo's HTTP API.</summary>
public sealed class PlatformClient(HttpClient http)
{
    /// <summary>The default silo address.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>GET /v1/cluster as a JSON document.</summary>
    public async Task<JsonDocument> GetClusterAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("/v1/cluster", cancellationToken).ConfigureAwait(false);
        response.EnsureSuccessStatusCode();
        return await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), cancellationToken: cancellationToken).ConfigureAwait(false);
    }

    /// <summary>True when GET /health/ready answers 200.</summary>
    public async Task<bool> IsReadyAsync(CancellationToken cancellationToken = default)
    {
        using var response = await http.GetAsync("/health/ready", cancellationToken).ConfigureAwait(false);
        return response.IsSuccessStatusCode;
    }
}
