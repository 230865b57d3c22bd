using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Client;

public sealed partial class PlatformClient
{
    /// <summary>POST /v1/deploys: starts a deploy (scope deploy); a bad request throws <see cref="PlatformApiException"/> naming the field.</summary>
    public async Task<DeployInfo> StartDeployAsync(DeployStart deploy, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(deploy);
        var request = new HttpRequestMessage(HttpMethod.Post, "/v1/deploys") { Content = JsonContent.Create(deploy, DeployJson.Default.DeployStart) };
        using var doc = await SendForJsonAsync(request, cancellationToken).ConfigureAwait(false);
        return doc.RootElement.Deserialize(DeployJson.Default.DeployInfo) ?? throw new JsonException("POST /v1/deploys answered the JSON null");
    }

    /// <summary>GET /v1/deploys: the history, newest first; <paramref name="target"/> keeps those whose target description contains it.</summary>
    public async Task<List<DeploySummaryInfo>> ListDeploysAsync(string? target = null, int limit = 50, CancellationToken cancellationToken = default)
    {
        var path = $"/v1/deploys?limit={limit}" + (string.IsNullOrEmpty(target) ? "" : $"&target={Escape(target)}");
        using var doc = await SendForJsonAsync(new HttpRequestMessage(HttpMethod.Get, path), cancellationToken).ConfigureAwait(false);
        return doc.RootElement.Deserialize(DeployJson.Default.ListDeploySummaryInfo) ?? [];
    }

    /// <summary>GET /v1/deploys/{id}.</summary>
    public async Task<DeployInfo> GetDeployAsync(string id, CancellationToken cancellationToken = default)
    {
        using var doc = await SendForJsonAsync(new HttpRequestMessage(HttpMethod.Get, $"/v1/deploys/{Escape(id)}"), cancellationToken).ConfigureAwait(false);
        return doc.RootElement.Deserialize(DeployJson.Default.DeployInfo) ?? throw new JsonException("GET /v1/deploys answered the JSON null");
    }

    /// <summary>DELETE /v1/deploys/{id}: no node starts from now on; with <paramref name="stop"/> running nodes are stopped too.</summary>
    public async Task<DeployInfo> CancelDeployAsync(string id, bool stop = false, CancellationToken cancellationToken = default)
    {
        var request = new HttpRequestMessage(HttpMethod.Delete, $"/v1/deploys/{Escape(id)}?stop={(stop ? "true" : "false")}");
        using var doc = await SendForJsonAsync(request, cancellationToken).ConfigureAwait(false);
        return doc.RootElement.Deserialize(DeployJson.Default.DeployInfo) ?? throw new JsonException("DELETE /v1/deploys answered the JSON null");
    }

    /// <summary>GET /v1/deploys/{id}/logs: a node's output; with <paramref name="follow"/> the stream stays open until the node ends.</summary>
    public async Task<Stream> OpenDeployLogAsync(string id, string? node = null, bool follow = false, CancellationToken cancellationToken = default)
    {
        var path = $"/v1/deploys/{Escape(id)}/logs?follow={(follow ? "true" : "false")}" + (string.IsNullOrEmpty(node) ? "" : $"&node={Escape(node)}");
        var response = await SendAsync(new HttpRequestMessage(HttpMethod.Get, path), HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        return await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
    }
}
