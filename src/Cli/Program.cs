using System.Text.Json;
using Platform.Client;

// platform [--url URL] cluster|ready
var url = Environment.GetEnvironmentVariable("PLATFORM_URL") ?? PlatformClient.DefaultUrl;
var rest = new List<string>();
for (var i = 0; i < args.Length; i++)
{
    if (args[i] == "--url" && i + 1 < args.Length) url = args[++i];
    else rest.Add(args[i]);
}
if (rest.Count != 1 || rest[0] is not ("cluster" or "ready"))
{
    Console.Error.WriteLine("usage: platform [--url URL] cluster|ready   (URL default http://127.0.0.1:8080, or PLATFORM_URL)");
    return 2;
}

using var http = new HttpClient { BaseAddress = new Uri(url), Timeout = TimeSpan.FromSeconds(10) };
var client = new PlatformClient(http);
try
{
    if (rest[0] == "ready")
    {
        var ready = await client.IsReadyAsync();
        Console.WriteLine(ready ? "ready" : "not ready");
        return ready ? 0 : 1;
    }
    using var cluster = await client.GetClusterAsync();
    Console.WriteLine(JsonSerializer.Serialize(cluster.RootElement, new JsonSerializerOptions { WriteIndented = true }));
    return 0;
}
catch (HttpRequestException e)
{
    Console.Error.WriteLine($"error: silo at {url} (--url, PLATFORM_URL): {e.Message}");
    return 1;
}
