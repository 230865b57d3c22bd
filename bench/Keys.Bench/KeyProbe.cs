using System.Text;

namespace Platform.Keys.Bench;

/// <summary>
/// One PUT or GET of a key, for bench/keys.sh's durability check: a key PUT before the server is killed with SIGKILL
/// must still be there after it restarts on the same data directory.
/// </summary>
public static class KeyProbe
{
    /// <summary>Writes <paramref name="value"/> at <paramref name="key"/> once the server answers; 0 when it did, 1 otherwise.</summary>
    public static async Task<int> PutAsync(string url, string key, string value)
    {
        var target = new Target("server", new Uri(url), null);
        await target.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var c = await target.ConnectAsync();
        await c.SendAsync(Requests.Put(target.Host, "/v2/keys" + key, value));
        var (head, body) = await c.ReadResponseAsync();
        if (Answers.CheckKey(head, body.Span, "set", key, value, 200, 201) is not { } wrong) return 0;
        Console.Error.WriteLine($"PUT {url}v2/keys{key}: {wrong}");
        return 1;
    }

    /// <summary>Prints the value at <paramref name="key"/> once the server answers; 0 when found, 3 when the key does not exist, 1 on other answers.</summary>
    public static async Task<int> GetAsync(string url, string key)
    {
        var target = new Target("server", new Uri(url), null);
        await target.WaitReadyAsync(TimeSpan.FromSeconds(60));
        using var c = await target.ConnectAsync();
        await c.SendAsync(Requests.Get(target.Host, "/v2/keys" + key));
        var (head, body) = await c.ReadResponseAsync();
        if (head.Status == 404) return 3;
        var e = head.IsSuccess ? KeyEvent.Parse(body.Span) : default;
        if (e.Action == "get" && e.Key == key && e.Value is { } value)
        {
            Console.WriteLine(value);
            return 0;
        }
        Console.Error.WriteLine($"GET {url}v2/keys{key}: HTTP {head.Status}: {Encoding.UTF8.GetString(body.Span)}");
        return 1;
    }
}
