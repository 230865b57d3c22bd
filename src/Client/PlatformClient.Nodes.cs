using System.Text;
using System.Text.Json;

namespace Platform.Client;

public sealed partial class PlatformClient
{
    /// <summary>GET /v1/nodes: the nodes matching <paramref name="filter"/> (every node when null).</summary>
    public async Task<IReadOnlyList<Node>> ListNodesAsync(NodeFilter? filter = null, CancellationToken cancellationToken = default)
    {
        var path = new StringBuilder("/v1/nodes");
        var sep = '?';
        void Add(string key, string value)
        {
            path.Append(sep).Append(key).Append('=').Append(Escape(value));
            sep = '&';
        }
        if (filter is not null)
        {
            if (!string.IsNullOrEmpty(filter.Status)) Add("status", filter.Status);
            if (!string.IsNullOrEmpty(filter.Name)) Add("name", filter.Name);
            foreach (var tag in filter.Tags) Add("tag", tag.ToString());
        }
        using var doc = await GetJsonAsync<JsonDocument>(path.ToString(), cancellationToken).ConfigureAwait(false);
        // The list, or an object holding it under "nodes" (or Serf's "members").
        var root = doc.RootElement;
        if (root.ValueKind == JsonValueKind.Object)
        {
            if (root.TryGetProperty("nodes", out var nodes)) root = nodes;
            else if (root.TryGetProperty("members", out var members)) root = members;
        }
        if (root.ValueKind != JsonValueKind.Array) throw new JsonException($"GET {path} answered neither a list of nodes nor {{\"nodes\":[...]}}");
        return root.Deserialize<List<Node>>(s_json) ?? [];
    }

    /// <summary>GET /v1/nodes/{name}: one node with its durable state.</summary>
    public Task<NodeDetail> GetNodeAsync(string name, CancellationToken cancellationToken = default)
        => GetJsonAsync<NodeDetail>($"/v1/nodes/{Escape(name)}", cancellationToken);

    /// <summary>PUT /v1/nodes/{name}/tags: sets and deletes tags in one member-update.</summary>
    public async Task SetTagsAsync(string node, IReadOnlyDictionary<string, string> set, IReadOnlyList<string> delete, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Put, $"/v1/nodes/{Escape(node)}/tags") { Content = JsonBody(new TagChange(set, delete)) };
        using var _ = await SendForJsonAsync(request, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>DELETE-only form of <see cref="SetTagsAsync"/>.</summary>
    public Task DeleteTagsAsync(string node, IReadOnlyList<string> keys, CancellationToken cancellationToken = default)
        => SetTagsAsync(node, new Dictionary<string, string>(), keys, cancellationToken);

    /// <summary>POST /v1/nodes/{name}/leave: the node's agent leaves gracefully.</summary>
    public Task LeaveAsync(string node, CancellationToken cancellationToken = default)
        => PostIdempotentAsync($"/v1/nodes/{Escape(node)}/leave", cancellationToken);

    /// <summary>POST /v1/nodes/{name}/force-leave: a failed node becomes left.</summary>
    public Task ForceLeaveAsync(string node, CancellationToken cancellationToken = default)
        => PostIdempotentAsync($"/v1/nodes/{Escape(node)}/force-leave", cancellationToken);

    // Leaving twice leaves once, so these may be sent to another silo even after reaching one.
    private async Task PostIdempotentAsync(string path, CancellationToken cancellationToken)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path);
        request.Options.Set(SiloFailoverHandler.Idempotent, true);
        using var _ = await SendForJsonAsync(request, cancellationToken).ConfigureAwait(false);
    }
}
