using System.Globalization;
using System.Text.Json;
using Xunit.Sdk;

namespace Platform.Silo.Tests.Etcd;

/// <summary>
/// Compares two servers' answers to the same v2 keys request: status, the X-Etcd-Index header, and for an error
/// errorCode, message and cause, for a success action, node and prevNode. JSON is compared as data (member order
/// does not count), with indexes (in-order key names too) relative to each store's index before the test, expiration
/// times masked and TTLs rounded as <see cref="OutputNormalizer"/> does.
/// </summary>
public static class KeysAnswer
{
    public static void AssertSame(string request, RawResponse[] answers, long[] bases)
    {
        var (reference, subject) = (answers[0], answers[1]);
        var differences = new List<string>();
        if (reference.Status != subject.Status) differences.Add($"status {reference.Status} != {subject.Status}");
        var (indexA, indexB) = (EtcdIndex(reference, bases[0]), EtcdIndex(subject, bases[1]));
        if (indexA != indexB) differences.Add($"X-Etcd-Index {indexA} != {indexB}");
        if (reference.Json is { ValueKind: JsonValueKind.Object } r)
        {
            var s = subject.Json;
            var fields = r.TryGetProperty("errorCode", out _) ? new[] { "errorCode", "message", "cause" } : ["action", "node", "prevNode"];
            foreach (var field in fields)
            {
                var (a, b) = (Canonical(r, field, bases[0]), s is { ValueKind: JsonValueKind.Object } o ? Canonical(o, field, bases[1]) : "(not JSON)");
                if (a != b) differences.Add($"{field}: {a} != {b}");
            }
        }
        if (differences.Count > 0)
            throw new XunitException($"{request}:\n  {string.Join("\n  ", differences)}\n  etcd:    {reference}\n  subject: {subject}");
    }

    /// <summary>The header relative to the store's index before the test; etcd's form errors carry a literal 0.</summary>
    private static string EtcdIndex(RawResponse answer, long baseIndex)
    {
        if (!answer.Headers.TryGetValue("X-Etcd-Index", out var text)) return "(absent)";
        var index = long.Parse(text, CultureInfo.InvariantCulture);
        return index == 0 ? "0" : "@" + (index - baseIndex);
    }

    /// <summary>A field as canonical JSON, "(absent)" when missing.</summary>
    private static string Canonical(JsonElement json, string field, long baseIndex) =>
        json.TryGetProperty(field, out var value) ? Canonical(value, baseIndex) : "(absent)";

    private static string Canonical(JsonElement json, long baseIndex) => json.ValueKind switch
    {
        JsonValueKind.Object => "{" + string.Join(",", json.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal).Select(p => $"\"{p.Name}\":" + p.Name switch
        {
            "createdIndex" or "modifiedIndex" when p.Value.ValueKind == JsonValueKind.Number => "@" + (p.Value.GetInt64() - baseIndex),
            "expiration" => "<time>",
            "key" when p.Value.ValueKind == JsonValueKind.String => JsonSerializer.Serialize(OutputNormalizer.Normalize(p.Value.GetString()!, baseIndex)),
            "ttl" when p.Value.ValueKind == JsonValueKind.Number => "~" + OutputNormalizer.RoundTtl(p.Value.GetInt64()),
            _ => Canonical(p.Value, baseIndex),
        })) + "}",
        JsonValueKind.Array => "[" + string.Join(",", json.EnumerateArray().Select(e => Canonical(e, baseIndex))) + "]",
        _ => json.GetRawText(),
    };
}
