namespace Platform.Grains.Rules;

/// <summary>
/// The placeholders an action's text may hold: <c>{{name}}</c> from a fixed set, each filled from the trigger's facts.
/// No expressions, no filters, no scripting; an unknown placeholder is refused when the rule is stored.
/// </summary>
public static class RuleTemplate
{
    public const string Repo = "repo";
    public const string Branch = "branch";
    public const string Commit = "commit";
    public const string BuildId = "build_id";
    public const string Status = "status";
    public const string Key = "key";
    public const string Value = "value";
    public const string Event = "event";
    public const string Payload = "payload";

    /// <summary>Every placeholder there is.</summary>
    public static readonly IReadOnlyList<string> All = [Repo, Branch, Commit, BuildId, Status, Key, Value, Event, Payload];

    /// <summary>The placeholders a trigger type provides.</summary>
    public static IReadOnlyList<string> ProvidedBy(string triggerType) => triggerType switch
    {
        RuleTriggerTypes.Push => [Repo, Branch, Commit],
        RuleTriggerTypes.BuildFinished => [Repo, Branch, Commit, BuildId, Status],
        RuleTriggerTypes.KeyChanged => [Key, Value],
        RuleTriggerTypes.UserEvent => [Event, Payload],
        _ => [],
    };

    /// <summary>Null when <paramref name="text"/> is a valid template using only <paramref name="provided"/>, else why not.</summary>
    public static string? Check(string text, IReadOnlyList<string> provided, string triggerType)
    {
        ArgumentNullException.ThrowIfNull(text);
        var at = 0;
        while (true)
        {
            var open = text.IndexOf("{{", at, StringComparison.Ordinal);
            var stray = text.IndexOf("}}", at, StringComparison.Ordinal);
            if (open < 0)
                return stray < 0 ? null : $"'}}}}' at position {stray} closes no placeholder";
            if (stray >= 0 && stray < open) return $"'}}}}' at position {stray} closes no placeholder";
            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0) return $"the placeholder opened at position {open} is not closed with '}}}}'";
            var name = text[(open + 2)..close].Trim();
            if (!All.Contains(name))
                return $"'{{{{{name}}}}}' is not a placeholder; expected one of {Describe(All)}";
            if (!provided.Contains(name))
                return $"'{{{{{name}}}}}' is not provided by a {triggerType} trigger; it provides {Describe(provided)}";
            at = close + 2;
        }
    }

    /// <summary>Whether <paramref name="text"/> uses placeholder <paramref name="name"/>.</summary>
    public static bool Uses(string? text, string name)
    {
        if (text is null) return false;
        var at = 0;
        while (text.IndexOf("{{", at, StringComparison.Ordinal) is var open and >= 0)
        {
            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0) return false;
            if (text.AsSpan(open + 2, close - open - 2).Trim().SequenceEqual(name)) return true;
            at = close + 2;
        }
        return false;
    }

    /// <summary>Fills the placeholders of a checked template from <paramref name="facts"/> (a missing fact is the empty string).</summary>
    public static string Render(string text, IReadOnlyDictionary<string, string> facts)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (!text.Contains("{{", StringComparison.Ordinal)) return text;
        var result = new System.Text.StringBuilder(text.Length);
        var at = 0;
        while (text.IndexOf("{{", at, StringComparison.Ordinal) is var open and >= 0)
        {
            var close = text.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0) break;
            result.Append(text, at, open - at);
            var name = text[(open + 2)..close].Trim();
            result.Append(facts.TryGetValue(name, out var v) ? v : "");
            at = close + 2;
        }
        result.Append(text, at, text.Length - at);
        return result.ToString();
    }

    private static string Describe(IReadOnlyList<string> names) => string.Join(", ", names.Select(n => "{{" + n + "}}"));
}
