namespace Platform.Agent.Deploy;

/// <summary>What of a URL may be logged: presigned URLs carry credentials in their query, so it is left out.</summary>
public static class LogSafe
{
    /// <summary><paramref name="url"/> without its query string and user info.</summary>
    public static string Url(string url)
    {
        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri)) return url.Split('?')[0];
        var safe = new UriBuilder(uri) { UserName = "", Password = "", Query = "" }.Uri.ToString();
        return uri.Query.Length > 0 ? safe + "?…" : safe;
    }
}
