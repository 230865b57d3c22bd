using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Platform.Protocol;

namespace Platform.Builds.Running;

/// <summary>
/// Uploads a job's artifacts to the silo's artifact store: <c>PUT {silo}/v1/artifacts/{build_id}/{path}</c>, the file as
/// the raw streamed body, answered with <c>{"name","size","sha256"}</c>, which must match what was sent.
/// </summary>
public sealed class ArtifactUploader(HttpClient http, Uri silo, string? token)
{
    /// <summary>Uploads <paramref name="relativePath"/> of <paramref name="checkout"/> for build <paramref name="buildId"/>; throws naming the file when it fails.</summary>
    public async Task<JobArtifact> UploadAsync(string buildId, string checkout, string relativePath, CancellationToken cancellationToken)
    {
        var path = Path.Combine(checkout, relativePath);
        var sha = Convert.ToHexStringLower(await HashAsync(path, cancellationToken).ConfigureAwait(false));
        var size = new FileInfo(path).Length;
        var url = new Uri(HttpBase(silo), "v1/artifacts/" + Uri.EscapeDataString(buildId) + "/" + string.Join('/', relativePath.Split('/').Select(Uri.EscapeDataString)));
        await using var file = File.OpenRead(path);
        using var request = new HttpRequestMessage(HttpMethod.Put, url) { Content = new StreamContent(file, 64 * 1024) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
        request.Content.Headers.ContentLength = size;
        if (token is { Length: > 0 }) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new JobFailedException($"artifact '{relativePath}': the upload to {url} failed: {e.Message}", e);
        }
        using (response)
        {
            if (!response.IsSuccessStatusCode)
            {
                var body = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
                throw new JobFailedException($"artifact '{relativePath}': the upload to {url} was answered {(int)response.StatusCode}: {body.Trim()}");
            }
            JobArtifact? stored;
            try
            {
                stored = await response.Content.ReadFromJsonAsync<JobArtifact>(cancellationToken).ConfigureAwait(false);
            }
            catch (JsonException e)
            {
                throw new JobFailedException($"artifact '{relativePath}': the artifact store's answer is not {{\"name\",\"size\",\"sha256\"}}: {e.Message}", e);
            }
            if (stored is null || stored.Size != size || !string.Equals(stored.Sha256, sha, StringComparison.OrdinalIgnoreCase))
                throw new JobFailedException($"artifact '{relativePath}': the store kept {stored?.Size} bytes with SHA-256 {stored?.Sha256}; sent {size} bytes with SHA-256 {sha}");
            return stored;
        }
    }

    private static async Task<byte[]> HashAsync(string path, CancellationToken cancellationToken)
    {
        await using var file = File.OpenRead(path);
        return await SHA256.HashDataAsync(file, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The silo's HTTP base URL for a connection URL (ws→http, wss→https), ending in '/'.</summary>
    public static Uri HttpBase(Uri server)
    {
        var builder = new UriBuilder(server)
        {
            Scheme = server.Scheme switch { "wss" or "https" => "https", _ => "http" },
            Path = server.AbsolutePath.TrimEnd('/') + "/",
        };
        return builder.Uri;
    }
}
