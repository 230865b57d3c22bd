using System.Text.Json;
using System.Text.Json.Serialization;
using Platform.Grains.Rules;

namespace Platform.Silo.Endpoints.Rules;

/// <summary>A rule body that is not the JSON shape of a rule: the field and what was expected.</summary>
public sealed class RuleJsonException(string field, string message) : Exception($"{field}: {message}")
{
    public string Field { get; } = field;
}

/// <summary>
/// The JSON of rules (docs/rules.md): reads a body into a <see cref="RuleSpec"/>, refusing unknown fields and values of
/// the wrong kind by name; the rule's meaning is checked by <see cref="RuleValidator"/> in the registry.
/// </summary>
public static class RuleJson
{
    /// <summary>How rules, runs and errors are written: camelCase, absent fields left out.</summary>
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull };

    private static readonly string[] RuleFields = ["name", "enabled", "trigger", "actions", "id", "created", "updated"];
    private static readonly string[] TriggerFields = ["type", "repo", "branches", "status", "key", "prefix", "name"];
    private static readonly string[] ActionFields = ["type", "repo", "branch", "pipeline", "manifestUrl", "manifest_url", "manifest", "target", "strategy", "stretch", "key", "value", "name", "payload"];
    private static readonly string[] TargetFields = ["nodes", "tags", "all"];

    /// <summary>Reads a rule; <c>id</c>, <c>created</c> and <c>updated</c> are accepted (a rule read back can be sent again) and ignored.</summary>
    public static RuleSpec Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new RuleJsonException("(body)", $"is a JSON {Kind(root)}; expected a rule object such as {{\"name\":\"notify\",\"trigger\":{{...}},\"actions\":[...]}}");
        Known(root, "", RuleFields);
        var name = String(root, "", "name") ?? "";
        var enabled = root.TryGetProperty("enabled", out var e) ? Bool(e, "enabled") : true;
        RuleTrigger? trigger = null;
        if (root.TryGetProperty("trigger", out var t) && t.ValueKind != JsonValueKind.Null)
        {
            if (t.ValueKind != JsonValueKind.Object) throw new RuleJsonException("trigger", $"is a JSON {Kind(t)}; expected an object");
            Known(t, "trigger.", TriggerFields);
            trigger = new RuleTrigger(String(t, "trigger.", "type") ?? "", String(t, "trigger.", "repo"), String(t, "trigger.", "branches"), String(t, "trigger.", "status"),
                String(t, "trigger.", "key"), String(t, "trigger.", "prefix"), String(t, "trigger.", "name"));
        }
        List<RuleAction>? actions = null;
        if (root.TryGetProperty("actions", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array) throw new RuleJsonException("actions", $"is a JSON {Kind(list)}; expected an array of actions");
            actions = [];
            var i = 0;
            foreach (var a in list.EnumerateArray())
            {
                actions.Add(Action(a, $"actions[{i}]"));
                i++;
            }
        }
        return new RuleSpec(name, enabled, trigger, actions);
    }

    private static RuleAction Action(JsonElement a, string field)
    {
        if (a.ValueKind != JsonValueKind.Object) throw new RuleJsonException(field, $"is a JSON {Kind(a)}; expected an action object");
        var at = field + ".";
        Known(a, at, ActionFields);
        if (a.TryGetProperty("manifestUrl", out _) && a.TryGetProperty("manifest_url", out _))
            throw new RuleJsonException(at + "manifestUrl", "is given twice (manifestUrl and manifest_url); give one");
        RuleDeployTarget? target = null;
        if (a.TryGetProperty("target", out var t) && t.ValueKind != JsonValueKind.Null) target = Target(t, at + "target");
        JsonElement? strategy = a.TryGetProperty("strategy", out var s) && s.ValueKind != JsonValueKind.Null ? s.Clone() : null;
        JsonElement? stretch = a.TryGetProperty("stretch", out var st) && st.ValueKind != JsonValueKind.Null ? st.Clone() : null;
        return new RuleAction(
            String(a, at, "type") ?? "",
            String(a, at, "repo"),
            String(a, at, "branch"),
            String(a, at, "pipeline"),
            String(a, at, "manifestUrl") ?? String(a, at, "manifest_url"),
            String(a, at, "manifest"),
            target,
            strategy,
            String(a, at, "key"),
            String(a, at, "value"),
            String(a, at, "name"),
            String(a, at, "payload"),
            stretch);
    }

    private static RuleDeployTarget Target(JsonElement t, string field)
    {
        if (t.ValueKind != JsonValueKind.Object) throw new RuleJsonException(field, $"is a JSON {Kind(t)}; expected {{\"nodes\":[...]}}, {{\"tags\":{{...}}}} or {{\"all\":true}}");
        Known(t, field + ".", TargetFields);
        List<string>? nodes = null;
        if (t.TryGetProperty("nodes", out var n) && n.ValueKind != JsonValueKind.Null)
        {
            if (n.ValueKind != JsonValueKind.Array) throw new RuleJsonException(field + ".nodes", $"is a JSON {Kind(n)}; expected an array of node names");
            nodes = [];
            var i = 0;
            foreach (var node in n.EnumerateArray())
            {
                if (node.ValueKind != JsonValueKind.String) throw new RuleJsonException($"{field}.nodes[{i}]", $"is a JSON {Kind(node)}; expected a node name");
                nodes.Add(node.GetString()!);
                i++;
            }
        }
        Dictionary<string, string>? tags = null;
        if (t.TryGetProperty("tags", out var g) && g.ValueKind != JsonValueKind.Null)
        {
            if (g.ValueKind != JsonValueKind.Object) throw new RuleJsonException(field + ".tags", $"is a JSON {Kind(g)}; expected an object of tag → regular expression");
            tags = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var p in g.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw new RuleJsonException($"{field}.tags.{p.Name}", $"is a JSON {Kind(p.Value)}; expected a regular expression");
                tags[p.Name] = p.Value.GetString()!;
            }
        }
        var all = t.TryGetProperty("all", out var a) && Bool(a, field + ".all");
        return new RuleDeployTarget(nodes, tags, all);
    }

    private static void Known(JsonElement obj, string at, string[] fields)
    {
        foreach (var p in obj.EnumerateObject())
            if (Array.IndexOf(fields, p.Name) < 0)
                throw new RuleJsonException(at + p.Name, $"is not a field here; expected {string.Join(", ", fields.Where(f => f is not ("id" or "created" or "updated" or "manifest_url")))}");
    }

    private static string? String(JsonElement obj, string at, string name)
    {
        if (!obj.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
        if (v.ValueKind != JsonValueKind.String) throw new RuleJsonException(at + name, $"is a JSON {Kind(v)}; expected a string");
        return v.GetString();
    }

    private static bool Bool(JsonElement v, string field) => v.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new RuleJsonException(field, $"is a JSON {Kind(v)}; expected true or false"),
    };

    private static string Kind(JsonElement v) => v.ValueKind.ToString().ToLowerInvariant();
}
