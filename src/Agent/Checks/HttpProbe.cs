using System.Buffers;
using System.Text;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Logging;
using Platform.Protocol;

namespace Platform.Agent.Checks;

/// <summary>
/// An HTTP check, as Consul runs one: 2xx passing, 429 warning, anything else (or no answer within the timeout)
/// critical; the output is <c>HTTP GET url: 200 OK Output: body</c> with the body's last bytes.
/// </summary>
internal sealed partial class HttpProbe(CheckDefinition definition, HttpClient client, int outputMaxSize, TimeProvider time, ILogger logger) : ICheckProbe
{
    /// <summary>Consul's User-Agent for health checks, sent unless the definition sets one.</summary>
    public const string UserAgent = "Consul Health Check";

    private const string DefaultAccept = "text/plain, text/*, */*";

    public async Task<CheckResult> RunAsync(CancellationToken stopping)
    {
        var url = definition.Http!;
        var method = definition.Method;
        var target = url.OriginalString;
        using var request = new HttpRequestMessage(new HttpMethod(method), url);
        if (definition.Body is { } body) request.Content = new ByteArrayContent(Encoding.UTF8.GetBytes(body));
        foreach (var (name, values) in definition.Header)
        {
            if (string.Equals(name, "Host", StringComparison.OrdinalIgnoreCase))
            {
                if (values.Count > 0) request.Headers.Host = values[0];
            }
            else if (!request.Headers.TryAddWithoutValidation(name, values))
            {
                request.Content?.Headers.TryAddWithoutValidation(name, values);
            }
        }
        if (!request.Headers.Contains("User-Agent")) request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        if (!request.Headers.Contains("Accept")) request.Headers.TryAddWithoutValidation("Accept", DefaultAccept);
        // Consul turns keep-alive off so a server's idle timeout can never fail a check.
        request.Headers.ConnectionClose = true;

        var timeout = definition.EffectiveTimeout;
        using var timer = new CancellationTokenSource(timeout, time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(timer.Token, stopping);
        HttpResponseMessage response;
        try
        {
            response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!stopping.IsCancellationRequested)
        {
            return new CheckResult(CheckStatus.Critical, $"HTTP {method} {target}: timed out after {GoDuration.Format(timeout)} awaiting headers");
        }
        catch (HttpRequestException e)
        {
            return new CheckResult(CheckStatus.Critical, $"HTTP {method} {target}: {e.Message}");
        }

        using (response)
        {
            var output = new CheckOutputBuffer(outputMaxSize);
            try
            {
                await using var stream = await response.Content.ReadAsStreamAsync(linked.Token).ConfigureAwait(false);
                var buffer = ArrayPool<byte>.Shared.Rent(4096);
                try
                {
                    int read;
                    while ((read = await stream.ReadAsync(buffer, linked.Token).ConfigureAwait(false)) > 0)
                        output.Write(buffer.AsSpan(0, read));
                }
                finally
                {
                    ArrayPool<byte>.Shared.Return(buffer);
                }
            }
            catch (Exception e) when (e is IOException or HttpRequestException || (e is OperationCanceledException && !stopping.IsCancellationRequested))
            {
                // As Consul: the status code decides; a body cut short is shown as far as it came.
                LogBodyUnread(logger, definition.Id, e.Message);
            }

            var code = (int)response.StatusCode;
            var reason = string.IsNullOrEmpty(response.ReasonPhrase) ? ReasonPhrases.GetReasonPhrase(code) : response.ReasonPhrase;
            var text = $"HTTP {method} {target}: {code} {reason} Output: {output.TextWithNote()}";
            var status = code switch
            {
                >= 200 and <= 299 => CheckStatus.Passing,
                429 => CheckStatus.Warning,
                _ => CheckStatus.Critical,
            };
            return new CheckResult(status, text);
        }
    }
}
