using System.Globalization;
using System.Text.Json;
using Platform.Protocol;

namespace Platform.Agent.Checks;

/// <summary>
/// Reads check definitions in Consul's agent configuration format from JSON: the value of <c>checks</c> (an array)
/// or of <c>check</c> (one object). Keys are matched as Consul's configuration matches them: snake_case
/// (<c>failures_before_critical</c>) or the HTTP API's CamelCase (<c>FailuresBeforeCritical</c>).
/// </summary>
public static class CheckDefinitionReader
{
    private const string Example = "{\"name\": \"web\", \"http\": \"http://localhost:8080/health\", \"interval\": \"10s\"}";
    private const string KindKeys = "args, script, http, tcp, ttl";

    // Consul's configuration folds keys the same way (lib.TranslateKeys plus case-insensitive decoding).
    private static readonly Dictionary<string, string> s_keys = new(StringComparer.Ordinal)
    {
        ["id"] = "id",
        ["checkid"] = "id",
        ["name"] = "name",
        ["notes"] = "notes",
        ["args"] = "args",
        ["scriptargs"] = "args",
        ["script"] = "script",
        ["http"] = "http",
        ["method"] = "method",
        ["header"] = "header",
        ["body"] = "body",
        ["tcp"] = "tcp",
        ["ttl"] = "ttl",
        ["interval"] = "interval",
        ["timeout"] = "timeout",
        ["status"] = "status",
        ["successbeforepassing"] = "success_before_passing",
        ["failuresbeforewarning"] = "failures_before_warning",
        ["failuresbeforecritical"] = "failures_before_critical",
    };

    private static readonly string s_knownKeys = string.Join(", ", s_keys.Values.Distinct());

    /// <summary>
    /// Reads <paramref name="checks"/> (an array of check objects, or one object); throws
    /// <see cref="CheckDefinitionException"/> naming the check, the key and what was expected.
    /// </summary>
    public static IReadOnlyList<CheckDefinition> Read(JsonElement checks, CheckOptions options)
    {
        var definitions = new List<CheckDefinition>();
        switch (checks.ValueKind)
        {
            case JsonValueKind.Array:
                var index = 0;
                foreach (var element in checks.EnumerateArray())
                    definitions.Add(ReadOne(element, $"checks[{index++}]", options));
                break;
            case JsonValueKind.Object:
                definitions.Add(ReadOne(checks, "check", options));
                break;
            case JsonValueKind.Null or JsonValueKind.Undefined:
                break;
            default:
                throw new CheckDefinitionException(
                    $"checks is {Describe(checks)}; expected an array of check objects such as [{Example}]");
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var definition in definitions)
        {
            if (!seen.Add(definition.Id))
                throw new CheckDefinitionException(
                    $"check id '{definition.Id}' is defined twice; expected each check to have its own id (it defaults to the name)");
        }
        return definitions;
    }

    private static CheckDefinition ReadOne(JsonElement element, string position, CheckOptions options)
    {
        if (element.ValueKind != JsonValueKind.Object)
            throw new CheckDefinitionException($"{position} is {Describe(element)}; expected an object such as {Example}");

        var keys = new Dictionary<string, (string Written, JsonElement Value)>(StringComparer.Ordinal);
        foreach (var property in element.EnumerateObject())
        {
            var folded = property.Name.Replace("_", "", StringComparison.Ordinal).ToLowerInvariant();
            if (!s_keys.TryGetValue(folded, out var key))
                throw new CheckDefinitionException(
                    $"{position} has key '{property.Name}', which a check does not take; expected keys: {s_knownKeys}");
            if (keys.ContainsKey(key))
                throw new CheckDefinitionException($"{position} sets '{key}' twice");
            keys[key] = (property.Name, property.Value);
        }

        // The name first, so every later error can say which check it is about.
        var name = keys.ContainsKey("name") ? String(keys, "name", position) : null;
        var id = keys.ContainsKey("id") ? String(keys, "id", position) : null;
        if (string.IsNullOrEmpty(name))
            throw new CheckDefinitionException(
                $"{position}{(id is null ? "" : $" (id '{id}')")} has no 'name'; expected a name such as \"web\"");
        var label = $"check '{name}'";
        if (id is { Length: 0 })
            throw new CheckDefinitionException($"{label} has an empty 'id'; expected an id or no 'id' (it defaults to the name)");

        var kinds = new List<string>(1);
        foreach (var kindKey in (ReadOnlySpan<string>)["args", "script", "http", "tcp", "ttl"])
        {
            if (keys.ContainsKey(kindKey)) kinds.Add(kindKey);
        }
        if (kinds.Count == 0)
            throw new CheckDefinitionException($"{label} has none of {KindKeys}; expected exactly one of them");
        if (kinds.Count > 1)
            throw new CheckDefinitionException(
                $"{label} has {string.Join(" and ", kinds.Select(k => $"'{k}'"))}; expected exactly one of {KindKeys}");

        var kind = kinds[0] switch
        {
            "args" or "script" => CheckKind.Script,
            "http" => CheckKind.Http,
            "tcp" => CheckKind.Tcp,
            _ => CheckKind.Ttl,
        };

        if (kind == CheckKind.Script && !options.EnableScriptChecks)
            throw new CheckDefinitionException(
                $"{label} runs a command ('{kinds[0]}'), but script checks are disabled; set enable_local_script_checks (or enable_script_checks) to true to allow them");

        foreach (var httpOnly in (ReadOnlySpan<string>)["method", "header", "body"])
        {
            if (kind != CheckKind.Http && keys.ContainsKey(httpOnly))
                throw new CheckDefinitionException($"{label} has '{httpOnly}', which only an 'http' check takes");
        }

        var interval = Duration(keys, "interval", label);
        var timeout = Duration(keys, "timeout", label);
        if (kind == CheckKind.Ttl)
        {
            if (interval is not null)
                throw new CheckDefinitionException(
                    $"{label} has both 'ttl' and 'interval'; expected 'interval' only on args, script, http and tcp checks");
            if (timeout is not null)
                throw new CheckDefinitionException($"{label} has 'timeout', which a 'ttl' check does not take");
            foreach (var threshold in (ReadOnlySpan<string>)["success_before_passing", "failures_before_warning", "failures_before_critical"])
            {
                if (keys.ContainsKey(threshold))
                    throw new CheckDefinitionException(
                        $"{label} has '{threshold}', which a 'ttl' check does not take (it applies to args, script, http and tcp checks)");
            }
        }
        else if (interval is null)
        {
            throw new CheckDefinitionException(
                $"{label} has '{kinds[0]}' but no 'interval'; expected a Go duration such as \"10s\"");
        }

        var status = CheckStatus.Critical;
        if (keys.ContainsKey("status"))
        {
            status = String(keys, "status", label);
            if (!CheckStatus.IsValid(status))
                throw new CheckDefinitionException(
                    $"{label} has 'status' \"{status}\"; expected passing, warning or critical");
        }

        var failuresBeforeCritical = Count(keys, "failures_before_critical", label);
        return new CheckDefinition
        {
            Id = id ?? name,
            Name = name,
            Kind = kind,
            Args = kinds[0] == "args" ? Args(keys, label) : null,
            Script = kinds[0] == "script" ? NonEmpty(keys, "script", label, "a shell line such as \"curl -sf localhost:8080/health\"") : null,
            Http = kind == CheckKind.Http ? HttpUrl(keys, label) : null,
            Method = keys.ContainsKey("method") ? Method(keys, label) : "GET",
            Header = keys.ContainsKey("header") ? Header(keys, label) : new Dictionary<string, IReadOnlyList<string>>(),
            Body = keys.ContainsKey("body") ? String(keys, "body", label) : null,
            Tcp = kind == CheckKind.Tcp ? TcpAddress(keys, label) : null,
            Ttl = kind == CheckKind.Ttl ? Duration(keys, "ttl", label) : null,
            Interval = interval,
            Timeout = timeout,
            Notes = keys.ContainsKey("notes") ? String(keys, "notes", label) : "",
            InitialStatus = status,
            SuccessBeforePassing = Count(keys, "success_before_passing", label),
            FailuresBeforeCritical = failuresBeforeCritical,
            // Consul: failures_before_warning defaults to failures_before_critical.
            FailuresBeforeWarning = keys.ContainsKey("failures_before_warning")
                ? Count(keys, "failures_before_warning", label)
                : failuresBeforeCritical,
        };
    }

    private static string String(Dictionary<string, (string Written, JsonElement Value)> keys, string key, string label)
    {
        var (written, value) = keys[key];
        if (value.ValueKind != JsonValueKind.String)
            throw new CheckDefinitionException($"{label} has '{written}' {Describe(value)}; expected a string");
        return value.GetString()!;
    }

    private static string NonEmpty(Dictionary<string, (string Written, JsonElement Value)> keys, string key, string label, string expected)
    {
        var text = String(keys, key, label);
        if (text.Trim().Length == 0)
            throw new CheckDefinitionException($"{label} has an empty '{keys[key].Written}'; expected {expected}");
        return text;
    }

    private static TimeSpan? Duration(Dictionary<string, (string Written, JsonElement Value)> keys, string key, string label)
    {
        if (!keys.TryGetValue(key, out var entry)) return null;
        var expected = "expected a Go duration such as \"10s\" or \"1m30s\"";
        if (entry.Value.ValueKind != JsonValueKind.String)
            throw new CheckDefinitionException($"{label} has '{entry.Written}' {Describe(entry.Value)}; {expected}");
        var text = entry.Value.GetString()!;
        if (!GoDuration.TryParse(text, out var duration))
            throw new CheckDefinitionException($"{label} has '{entry.Written}' \"{text}\"; {expected}");
        if (duration <= TimeSpan.Zero)
            throw new CheckDefinitionException($"{label} has '{entry.Written}' \"{text}\"; expected a duration above zero");
        return duration;
    }

    private static int Count(Dictionary<string, (string Written, JsonElement Value)> keys, string key, string label)
    {
        if (!keys.TryGetValue(key, out var entry)) return 0;
        if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetInt32(out var count) || count < 0)
            throw new CheckDefinitionException(
                $"{label} has '{entry.Written}' {Describe(entry.Value)}; expected a whole number of 0 or more");
        return count;
    }

    private static IReadOnlyList<string> Args(Dictionary<string, (string Written, JsonElement Value)> keys, string label)
    {
        var (written, value) = keys["args"];
        var expected = "expected a non-empty array of strings such as [\"/usr/local/bin/check_mem\", \"-limit\", \"256MB\"]";
        if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() == 0)
            throw new CheckDefinitionException($"{label} has '{written}' {Describe(value)}; {expected}");
        var args = new List<string>(value.GetArrayLength());
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
                throw new CheckDefinitionException($"{label} has an item of '{written}' that is {Describe(item)}; {expected}");
            args.Add(item.GetString()!);
        }
        if (args[0].Length == 0)
            throw new CheckDefinitionException($"{label} has an empty command as the first item of '{written}'; {expected}");
        return args;
    }

    private static Uri HttpUrl(Dictionary<string, (string Written, JsonElement Value)> keys, string label)
    {
        var text = String(keys, "http", label);
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new CheckDefinitionException(
                $"{label} has 'http' \"{text}\"; expected an absolute http or https URL such as \"http://localhost:8080/health\"");
        return url;
    }

    private static string Method(Dictionary<string, (string Written, JsonElement Value)> keys, string label)
    {
        var method = String(keys, "method", label);
        if (method.Length == 0 || !method.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            throw new CheckDefinitionException($"{label} has 'method' \"{method}\"; expected an HTTP method such as GET, HEAD or POST");
        return method;
    }

    private static IReadOnlyDictionary<string, IReadOnlyList<string>> Header(
        Dictionary<string, (string Written, JsonElement Value)> keys, string label)
    {
        var (written, value) = keys["header"];
        var expected = "expected an object of header names to arrays of values such as {\"Authorization\": [\"Bearer 42\"]}";
        if (value.ValueKind != JsonValueKind.Object)
            throw new CheckDefinitionException($"{label} has '{written}' {Describe(value)}; {expected}");
        var header = new Dictionary<string, IReadOnlyList<string>>(StringComparer.OrdinalIgnoreCase);
        foreach (var field in value.EnumerateObject())
        {
            if (field.Value.ValueKind != JsonValueKind.Array || field.Value.EnumerateArray().Any(v => v.ValueKind != JsonValueKind.String))
                throw new CheckDefinitionException(
                    $"{label} has header '{field.Name}' {Describe(field.Value)}; {expected}");
            header[field.Name] = field.Value.EnumerateArray().Select(v => v.GetString()!).ToArray();
        }
        return header;
    }

    private static string TcpAddress(Dictionary<string, (string Written, JsonElement Value)> keys, string label)
    {
        var text = String(keys, "tcp", label);
        var colon = text.LastIndexOf(':');
        var host = colon > 0 ? text[..colon] : "";
        if (host.StartsWith('[') && host.EndsWith(']')) host = host[1..^1];
        if (host.Length == 0
            || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var port)
            || port is < 1 or > 65535
            || (host.Contains(':') && !text.StartsWith('[')))
            throw new CheckDefinitionException(
                $"{label} has 'tcp' \"{text}\"; expected host:port such as \"localhost:22\" or \"[::1]:22\"");
        return text;
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"\"{value.GetString()}\"",
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True or JsonValueKind.False => value.GetRawText(),
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "nothing",
    };
}
