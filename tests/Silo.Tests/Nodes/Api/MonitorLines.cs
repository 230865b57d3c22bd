using System.Text.Json;

namespace Platform.Silo.Tests.Nodes.Api;

/// <summary>A silo's <c>GET /v1/monitor</c> stream, read line by line as JSON.</summary>
internal sealed class MonitorLines : IDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly StreamReader _reader;
    private readonly List<JsonElement> _seen = [];

    private MonitorLines(HttpResponseMessage response, StreamReader reader)
    {
        _response = response;
        _reader = reader;
    }

    /// <summary>Opens the stream; it is open (the silo sends every later line to it) when this returns.</summary>
    public static async Task<MonitorLines> OpenAsync(HttpClient http)
    {
        var response = await http.GetAsync("/v1/monitor", HttpCompletionOption.ResponseHeadersRead);
        response.EnsureSuccessStatusCode();
        return new MonitorLines(response, new StreamReader(await response.Content.ReadAsStreamAsync()));
    }

    /// <summary>Reads until a line matches <paramref name="done"/>; returns every line read so far, in order. Fails after 30 s naming <paramref name="what"/>.</summary>
    public async Task<List<JsonElement>> UntilAsync(Func<JsonElement, bool> done, string what, Func<string>? diagnostics = null)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        try
        {
            while (true)
            {
                var line = await _reader.ReadLineAsync(deadline.Token) ?? throw new InvalidOperationException($"the monitor stream ended before {what}");
                var e = JsonDocument.Parse(line).RootElement.Clone();
                _seen.Add(e);
                if (done(e)) return [.. _seen];
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"{what} not on the monitor within 30 s; it had:\n{string.Join('\n', _seen)}\n{diagnostics?.Invoke()}");
        }
    }

    public void Dispose()
    {
        _reader.Dispose();
        _response.Dispose();
    }
}
