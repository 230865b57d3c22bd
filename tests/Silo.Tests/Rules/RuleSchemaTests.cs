using System.Net.Http.Json;
using System.Text.Json;

namespace Platform.Silo.Tests.Rules;

/// <summary>GET /v1/rules/schema: the trigger and action types with their fields, each one the silo accepts in a rule.</summary>
[Collection(RulesCollection.Name)]
public sealed class RuleSchemaTests(RulesFleet fixture)
{
    private HttpClient Http => fixture.Fleet.Http;

    [Fact]
    public async Task Schema_lists_every_trigger_and_action_with_fields_and_placeholders_and_a_rule_made_from_it_is_accepted()
    {
        var schema = await Http.GetFromJsonAsync<JsonElement>("/v1/rules/schema");
        var triggers = schema.GetProperty("triggers").EnumerateArray().ToDictionary(t => t.GetProperty("type").GetString()!);
        var actions = schema.GetProperty("actions").EnumerateArray().ToDictionary(t => t.GetProperty("type").GetString()!);
        Assert.Equal(["build_finished", "key_changed", "push", "user_event"], triggers.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(["fire_event", "set_key", "start_build", "start_deploy"], actions.Keys.Order(StringComparer.Ordinal));

        var push = triggers["push"].GetProperty("fields").EnumerateArray().ToList();
        Assert.Equal(("repo", "repo", true), (push[0].GetProperty("name").GetString(), push[0].GetProperty("kind").GetString(), push[0].GetProperty("required").GetBoolean()));
        Assert.Equal(["repo", "branch", "commit"], triggers["push"].GetProperty("provides").EnumerateArray().Select(p => p.GetString()));
        var status = triggers["build_finished"].GetProperty("fields").EnumerateArray().Single(f => f.GetProperty("name").GetString() == "status");
        Assert.Equal(["passed", "failed", "canceled", "any"], status.GetProperty("choices").EnumerateArray().Select(c => c.GetString()));
        Assert.Equal(["event", "payload"], triggers["user_event"].GetProperty("provides").EnumerateArray().Select(p => p.GetString()));

        // The fields the schema names for user_event and set_key make a rule the silo takes.
        var ev = triggers["user_event"].GetProperty("fields")[0].GetProperty("name").GetString()!;
        var setKey = actions["set_key"].GetProperty("fields").EnumerateArray().Select(f => f.GetProperty("name").GetString()!).ToArray();
        var body = new Dictionary<string, object>
        {
            ["name"] = "schema-" + Guid.NewGuid().ToString("N")[..6],
            ["trigger"] = new Dictionary<string, string> { ["type"] = "user_event", [ev] = "schema-made" },
            ["actions"] = new[] { new Dictionary<string, string> { ["type"] = "set_key", [setKey[0]] = "/schema/made", [setKey[1]] = "{{payload}}" } },
        };
        using var added = await Http.PostAsJsonAsync("/v1/rules", body);
        var text = await added.Content.ReadAsStringAsync();
        Assert.True((int)added.StatusCode == 201, text);
        await fixture.RemoveRuleAsync(JsonDocument.Parse(text).RootElement.GetProperty("id").GetString()!);
    }
}
