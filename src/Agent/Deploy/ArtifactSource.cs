using Amazon;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;

namespace Platform.Agent.Deploy;

/// <summary>
/// Opens a manifest's or an archive's URL for reading: http, https, file and s3, as Stretcher does. <paramref name="agent"/>:
/// the token and silos of the agent running a cluster deploy (its configuration), tried before the environment's;
/// <paramref name="siloHttp"/>: the client for URLs on those silos (the agent's TLS files), <paramref name="http"/> for the rest.
/// </summary>
public sealed class ArtifactSource(HttpClient http, S3SourceOptions s3Options, Func<string, string?> environment, SiloAccess? agent = null, HttpClient? siloHttp = null) : IDisposable
{
    private AmazonS3Client? _s3;

    /// <summary>Opens <paramref name="url"/>; a missing file, an HTTP status other than 2xx or an S3 error is a <see cref="DeployException"/> naming the URL.</summary>
    public async Task<Stream> OpenAsync(string url, CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri))
            throw new DeployException($"'{LogSafe.Url(url)}' is not a URL; expected s3://, http://, https:// or file://");
        switch (uri.Scheme)
        {
            case "http" or "https":
                return await OpenHttpAsync(uri, cancellationToken).ConfigureAwait(false);
            case "file":
                try
                {
                    return new FileStream(uri.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, useAsync: true);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    throw new DeployException($"cannot read {url}: {e.Message}", e);
                }
            case "s3":
                return await OpenS3Async(uri, cancellationToken).ConfigureAwait(false);
            case "gs":
                throw new DeployException($"{LogSafe.Url(url)}: gs:// (Google Cloud Storage) sources are not supported; use s3://, http(s):// or file://");
            default:
                throw new DeployException($"{LogSafe.Url(url)}: URL scheme must be s3, http, https or file");
        }
    }

    private async Task<Stream> OpenHttpAsync(Uri uri, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        if (SiloToken(uri) is { } token) request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        HttpResponseMessage response;
        try
        {
            // The agent's CA and client certificate are for its silos only: any other server is checked as usual and sees neither.
            var client = siloHttp is not null && agent?.Serves(uri) == true ? siloHttp : http;
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpRequestException e)
        {
            throw new DeployException($"GET {LogSafe.Url(uri.ToString())}: {e.Message}", e);
        }
        if (!response.IsSuccessStatusCode)
        {
            var status = $"HTTP {(int)response.StatusCode} {response.ReasonPhrase}";
            response.Dispose();
            throw new DeployException($"GET {LogSafe.Url(uri.ToString())}: {status}");
        }
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// The agent's token when <paramref name="uri"/> is on one of its silos; else <c>PLATFORM_TOKEN</c> when it is on one of
    /// the silos in <c>PLATFORM_URL</c> (the variables every <c>platform</c> command reads), so that a manifest and its
    /// <c>src</c> can be the silo's artifacts; null for any other server, which must never see a token.
    /// </summary>
    private string? SiloToken(Uri uri) => agent?.TokenFor(uri) ?? SiloAccess.FromEnvironment(environment)?.TokenFor(uri);

    private async Task<Stream> OpenS3Async(Uri uri, CancellationToken cancellationToken)
    {
        var bucket = uri.Host;
        var key = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        if (bucket.Length == 0 || key.Length == 0)
            throw new DeployException($"{uri}: expected s3://BUCKET/KEY");
        try
        {
            var response = await S3().GetObjectAsync(new GetObjectRequest { BucketName = bucket, Key = key }, cancellationToken).ConfigureAwait(false);
            return response.ResponseStream;
        }
        catch (AmazonS3Exception e)
        {
            throw new DeployException($"GET {uri}: S3 answered HTTP {(int)e.StatusCode} {e.ErrorCode}: {e.Message}", e);
        }
        catch (AmazonClientException e)
        {
            throw new DeployException($"GET {uri}: {e.Message}", e);
        }
        catch (HttpRequestException e)
        {
            throw new DeployException($"GET {uri}: {e.Message}", e);
        }
    }

    private AmazonS3Client S3()
    {
        if (_s3 is not null) return _s3;
        var endpoint = s3Options.Endpoint ?? EndpointFromEnvironment();
        var config = new AmazonS3Config { ForcePathStyle = s3Options.ForcePathStyle ?? endpoint is not null };
        // Stretcher documents AWS_DEFAULT_REGION; the SDK's chain reads AWS_REGION.
        var region = environment("AWS_REGION") is { Length: > 0 } r ? r : environment("AWS_DEFAULT_REGION");
        if (!string.IsNullOrEmpty(region)) config.RegionEndpoint = RegionEndpoint.GetBySystemName(region);
        if (endpoint is not null)
        {
            config.ServiceURL = endpoint.ToString();
            if (string.IsNullOrEmpty(region)) config.AuthenticationRegion = "us-east-1";
        }
        try
        {
            _s3 = new AmazonS3Client(config);
        }
        catch (AmazonClientException e)
        {
            throw new DeployException($"s3:// sources: no usable AWS credentials or region ({e.Message}); set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile, or an instance role", e);
        }
        return _s3;
    }

    private Uri? EndpointFromEnvironment()
    {
        var text = environment("AWS_ENDPOINT_URL_S3") is { Length: > 0 } s ? s : environment("AWS_ENDPOINT_URL");
        if (string.IsNullOrEmpty(text)) return null;
        return Uri.TryCreate(text, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new DeployException($"AWS_ENDPOINT_URL_S3/AWS_ENDPOINT_URL: expected an http(s) URL, got '{text}'");
    }

    public void Dispose() => _s3?.Dispose();
}
