using System.Text.Json;

namespace Platform.Client;

/// <summary>A query the silo accepted: its NDJSON answer read line by line as it arrives, up to the <c>done</c> line.</summary>
public sealed class QueryStream : IAsyncEnumerable<QueryMessage>, IDisposable
{
    private readonly HttpResponseMessage _response;

    internal QueryStream(HttpResponseMessage response) => _response = response;

    public async IAsyncEnumerator<QueryMessage> GetAsyncEnumerator(CancellationToken cancellationToken = default)
    {
        await foreach (var line in PlatformClient.ReadLinesAsync(_response, cancellationToken).ConfigureAwait(false))
        {
            var message = JsonSerializer.Deserialize<QueryMessage>(line, PlatformClient.Json) ?? throw new JsonException("a query line was the JSON null");
            yield return message;
            if (message.Type == QueryMessage.Done) yield break;
        }
    }

    public void Dispose() => _response.Dispose();
}
