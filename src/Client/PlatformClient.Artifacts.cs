using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;

namespace Platform.Client;

public sealed partial class PlatformClient
{
    /// <summary>
    /// PUT /v1/artifacts/{name}: streams <paramref name="content"/> to the silo's artifact store (replacing an artifact of that
    /// name); with <paramref name="sha256"/> the silo refuses a body that does not match. Needs scope build or deploy.
    /// </summary>
    public async Task<Artifact> PutArtifactAsync(string name, Stream content, string? sha256 = null, CancellationToken cancellationToken = default)
    {
        using var body = new StreamContent(content, 1 << 16);
        body.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        if (content.CanSeek) body.Headers.ContentLength = content.Length - content.Position;
        using var request = new HttpRequestMessage(HttpMethod.Put, ArtifactPath(name)) { Content = body };
        if (sha256 is not null) request.Headers.Add("X-Checksum-Sha256", sha256);
        // No request timeout: an upload takes as long as its size needs.
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadFromJsonAsync<Artifact>(s_json, cancellationToken).ConfigureAwait(false)
            ?? throw new System.Text.Json.JsonException($"PUT {ArtifactPath(name)} answered the JSON null");
    }

    /// <summary>GET /v1/artifacts/{name}: copies the artifact to <paramref name="destination"/> and returns its metadata (SHA-256 from the ETag).</summary>
    public async Task<Artifact> GetArtifactAsync(string name, Stream destination, CancellationToken cancellationToken = default)
    {
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, ArtifactPath(name)), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await response.Content.CopyToAsync(destination, cancellationToken).ConfigureAwait(false);
        return ArtifactOf(name, response);
    }

    /// <summary>HEAD /v1/artifacts/{name}: the artifact's metadata, or null when there is none of that name.</summary>
    public async Task<Artifact?> GetArtifactInfoAsync(string name, CancellationToken cancellationToken = default)
    {
        using var timeout = RequestTimeout(cancellationToken);
        using var response = await _http.SendAsync(new HttpRequestMessage(HttpMethod.Head, ArtifactPath(name)), timeout.Token).ConfigureAwait(false);
        if (response.StatusCode == HttpStatusCode.NotFound) return null;
        if (!response.IsSuccessStatusCode) throw await ErrorAsync(response, timeout.Token).ConfigureAwait(false);
        return ArtifactOf(name, response);
    }

    /// <summary>GET /v1/artifacts?prefix=: the artifacts whose names start with <paramref name="prefix"/>, by name.</summary>
    public Task<List<Artifact>> ListArtifactsAsync(string prefix = "", CancellationToken cancellationToken = default)
        => GetJsonAsync<List<Artifact>>("/v1/artifacts?prefix=" + Uri.EscapeDataString(prefix), cancellationToken);

    /// <summary>DELETE /v1/artifacts/{name}; a name that does not exist is a <see cref="PlatformApiException"/> with status 404.</summary>
    public async Task DeleteArtifactAsync(string name, CancellationToken cancellationToken = default)
    {
        using var timeout = RequestTimeout(cancellationToken);
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Delete, ArtifactPath(name)), HttpCompletionOption.ResponseContentRead, timeout.Token).ConfigureAwait(false);
    }

    /// <summary>The path of an artifact: each segment of its name escaped, the '/' between them kept.</summary>
    public static string ArtifactPath(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var segments = name.Split('/');
        // Dot segments would be resolved away by the URI before the silo sees them: refuse them here, as the silo does.
        foreach (var segment in segments)
        {
            if (segment is "" or "." or "..")
                throw new ArgumentException($"artifact name '{name}' has an empty, '.' or '..' segment; expected a path such as 'myrepo/42/app.tar.gz'", nameof(name));
        }
        return "/v1/artifacts/" + string.Join('/', segments.Select(Uri.EscapeDataString));
    }

    private static Artifact ArtifactOf(string name, HttpResponseMessage response)
    {
        var sha = response.Headers.ETag?.Tag.Trim('"') ?? "";
        var created = response.Content.Headers.LastModified ?? default;
        return new Artifact(name, response.Content.Headers.ContentLength ?? 0, sha, created);
    }
}
