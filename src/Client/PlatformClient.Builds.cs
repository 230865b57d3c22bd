using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Platform.Client;

public sealed partial class PlatformClient
{
    /// <summary>POST /v1/builds: starts a build of <paramref name="branch"/> (at <paramref name="commit"/>, or its head when null).</summary>
    public async Task<BuildInfo> StartBuildAsync(string repository, string branch, string? commit = null, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/builds") { Content = JsonBody(new { repo = repository, branch, commit }) };
        using var doc = await SendForJsonAsync(request, cancellationToken).ConfigureAwait(false);
        return Build(doc, "POST /v1/builds");
    }

    /// <summary>GET /v1/builds: the latest builds, newest first, optionally of one repository, branch or state.</summary>
    public async Task<IReadOnlyList<BuildInfo>> ListBuildsAsync(string? repository = null, string? branch = null, string? state = null, int? limit = null, CancellationToken cancellationToken = default)
    {
        var query = new List<string>();
        if (!string.IsNullOrEmpty(repository)) query.Add("repo=" + Escape(repository));
        if (!string.IsNullOrEmpty(branch)) query.Add("branch=" + Escape(branch));
        if (!string.IsNullOrEmpty(state)) query.Add("state=" + Escape(state));
        if (limit is { } l) query.Add("limit=" + l);
        var path = "/v1/builds" + (query.Count == 0 ? "" : "?" + string.Join('&', query));
        using var doc = await GetJsonAsync<JsonDocument>(path, cancellationToken).ConfigureAwait(false);
        return doc.RootElement.Deserialize<List<BuildInfo>>(s_json) ?? [];
    }

    /// <summary>GET /v1/builds/{id}: the build with its jobs.</summary>
    public async Task<BuildInfo> GetBuildAsync(string id, CancellationToken cancellationToken = default)
    {
        using var doc = await GetJsonAsync<JsonDocument>("/v1/builds/" + BuildPath(id), cancellationToken).ConfigureAwait(false);
        return Build(doc, "GET /v1/builds/" + id);
    }

    /// <summary>POST /v1/builds/{id}/cancel.</summary>
    public Task<BuildInfo> CancelBuildAsync(string id, CancellationToken cancellationToken = default) => BuildActionAsync(id, "cancel", cancellationToken);

    /// <summary>POST /v1/builds/{id}/retry: runs the jobs of a failed build that did not pass again.</summary>
    public Task<BuildInfo> RetryBuildAsync(string id, CancellationToken cancellationToken = default) => BuildActionAsync(id, "retry", cancellationToken);

    /// <summary>
    /// GET /v1/builds/{id}/jobs/{job}/log: the log of a job's attempt (the latest when <paramref name="attempt"/> is null) in
    /// chunks as they arrive; with <paramref name="follow"/>, until the attempt ends.
    /// </summary>
    public async IAsyncEnumerable<ReadOnlyMemory<byte>> StreamBuildLogAsync(string id, string job, bool follow = false, int? attempt = null,
        [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var path = $"/v1/builds/{BuildPath(id)}/jobs/{Escape(job)}/log?follow={(follow ? "true" : "false")}" + (attempt is { } a ? $"&attempt={a}" : "");
        using var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        var buffer = new byte[64 * 1024];
        while (true)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (read == 0) yield break;
            yield return buffer.AsMemory(0, read).ToArray();
        }
    }

    /// <summary>GET /v1/queue: the waiting jobs with the reason each waits, the running jobs and the connected build agents.</summary>
    public async Task<BuildQueue> GetQueueAsync(CancellationToken cancellationToken = default)
    {
        using var doc = await GetJsonAsync<JsonDocument>("/v1/queue", cancellationToken).ConfigureAwait(false);
        return doc.RootElement.Deserialize<BuildQueue>(s_json) ?? throw new JsonException("GET /v1/queue answered the JSON null");
    }

    private async Task<BuildInfo> BuildActionAsync(string id, string action, CancellationToken cancellationToken)
    {
        var path = $"/v1/builds/{BuildPath(id)}/{action}";
        using var doc = await SendForJsonAsync(new HttpRequestMessage(HttpMethod.Post, path), cancellationToken).ConfigureAwait(false);
        return Build(doc, "POST " + path);
    }

    private static BuildInfo Build(JsonDocument doc, string what) => doc.RootElement.Deserialize<BuildInfo>(s_json) ?? throw new JsonException($"{what} answered the JSON null");

    /// <summary>A build id keeps its slashes (<c>team/app/12</c>); each segment is escaped.</summary>
    private static string BuildPath(string id) => string.Join('/', id.Split('/').Select(Escape));
}
