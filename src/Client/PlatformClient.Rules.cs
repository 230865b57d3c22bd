using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Platform.Client;

public sealed partial class PlatformClient
{
    /// <summary>POST /v1/rules: stores a new rule; answers it with its id. A mistake is a 400 naming the field.</summary>
    public Task<Rule> AddRuleAsync(RuleSpec rule, CancellationToken cancellationToken = default)
        => SendRuleAsync(HttpMethod.Post, "/v1/rules", JsonBody(rule), cancellationToken);

    /// <summary>POST /v1/rules with a rule written as JSON (a rule file).</summary>
    public Task<Rule> AddRuleJsonAsync(string json, CancellationToken cancellationToken = default)
        => SendRuleAsync(HttpMethod.Post, "/v1/rules", JsonText(json), cancellationToken);

    /// <summary>PUT /v1/rules/{id}: replaces a rule (by id or name).</summary>
    public Task<Rule> ReplaceRuleAsync(string idOrName, RuleSpec rule, CancellationToken cancellationToken = default)
        => SendRuleAsync(HttpMethod.Put, $"/v1/rules/{Escape(idOrName)}", JsonBody(rule), cancellationToken);

    /// <summary>GET /v1/rules: every rule, in id order.</summary>
    public Task<List<Rule>> ListRulesAsync(CancellationToken cancellationToken = default) => GetJsonAsync<List<Rule>>("/v1/rules", cancellationToken);

    /// <summary>GET /v1/rules/{id}: one rule, by id or name.</summary>
    public Task<Rule> GetRuleAsync(string idOrName, CancellationToken cancellationToken = default) => GetJsonAsync<Rule>($"/v1/rules/{Escape(idOrName)}", cancellationToken);

    /// <summary>POST /v1/rules/{id}/enable or /disable.</summary>
    public Task<Rule> SetRuleEnabledAsync(string idOrName, bool enabled, CancellationToken cancellationToken = default)
        => SendRuleAsync(HttpMethod.Post, $"/v1/rules/{Escape(idOrName)}/{(enabled ? "enable" : "disable")}", null, cancellationToken);

    /// <summary>DELETE /v1/rules/{id}: removes a rule; answers it as it was.</summary>
    public Task<Rule> RemoveRuleAsync(string idOrName, CancellationToken cancellationToken = default)
        => SendRuleAsync(HttpMethod.Delete, $"/v1/rules/{Escape(idOrName)}", null, cancellationToken);

    /// <summary>GET /v1/rules/{id}/runs: the rule's latest runs, newest first.</summary>
    public Task<List<RuleRun>> ListRuleRunsAsync(string idOrName, int limit = 20, CancellationToken cancellationToken = default)
        => GetJsonAsync<List<RuleRun>>($"/v1/rules/{Escape(idOrName)}/runs?limit={limit}", cancellationToken);

    private async Task<Rule> SendRuleAsync(HttpMethod method, string path, HttpContent? body, CancellationToken cancellationToken)
    {
        using var doc = await SendForJsonAsync(new HttpRequestMessage(method, path) { Content = body }, cancellationToken).ConfigureAwait(false);
        return doc.RootElement.Deserialize<Rule>(s_json) ?? throw new JsonException($"{method} {path} answered the JSON null");
    }

    private static ByteArrayContent JsonText(string json)
    {
        var content = new ByteArrayContent(Encoding.UTF8.GetBytes(json));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }
}
