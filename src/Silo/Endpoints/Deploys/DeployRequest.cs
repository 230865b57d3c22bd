using System.Globalization;
using System.Text.Json;
using Platform.Grains.Deploys;
using Platform.Protocol;

namespace Platform.Silo.Endpoints.Deploys;

/// <summary>
/// Reads the body of <c>POST /v1/deploys</c> (docs/deploys.md, "HTTP API") into a <see cref="DeploySpec"/>; every
/// mistake is a <see cref="DeployRequestException"/> naming the field and what was expected.
/// </summary>
public static class DeployRequest
{
    private static readonly HashSet<string> TopKeys = ["manifest_url", "manifest", "target", "strategy", "stretch", "on_finish"];
    private static readonly HashSet<string> TargetKeys = ["nodes", "tags", "all"];
    private static readonly HashSet<string> StrategyKeys = ["batch", "max_parallel", "failure_threshold", "pause", "node_timeout"];
    private static readonly HashSet<string> NotifyKeys = ["key", "event"];
    private static readonly HashSet<string> StretchKeys = ["retry", "retry_wait", "random_delay", "max_bandwidth"];

    public static DeploySpec Parse(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new DeployRequestException("body: expected a JSON object with manifest_url or manifest, target and strategy");
        Known(root, TopKeys, "");
        var manifestUrl = OptionalString(root, "manifest_url");
        var manifest = OptionalString(root, "manifest");
        // Refused here, before anything is stored or sent: a manifest that cannot parse would fail on every node. (With
        // a manifest_url too, the request is refused for having both.)
        if (string.IsNullOrWhiteSpace(manifestUrl) && !string.IsNullOrWhiteSpace(manifest) && Platform.Agent.Deploy.ManifestCheck.Problem(manifest) is { } problem)
            throw new DeployRequestException(problem);
        return new DeploySpec
        {
            ManifestUrl = manifestUrl,
            Manifest = manifest,
            Target = root.TryGetProperty("target", out var target) ? Target(target) : new DeployTarget(),
            Strategy = root.TryGetProperty("strategy", out var strategy) && strategy.ValueKind != JsonValueKind.Null ? Strategy(strategy) : new DeployStrategy(),
            Stretch = root.TryGetProperty("stretch", out var stretch) && stretch.ValueKind != JsonValueKind.Null ? Stretch(stretch) : null,
            OnFinish = root.TryGetProperty("on_finish", out var notify) && notify.ValueKind != JsonValueKind.Null ? Notify(notify) : null,
        };
    }

    /// <summary>
    /// Why a <c>strategy</c> and <c>stretch</c> object would be refused by <c>POST /v1/deploys</c>, with its message;
    /// null when they would be taken (a rule's deploy is checked when the rule is added, not first when it runs).
    /// </summary>
    public static string? StrategyProblem(JsonElement? strategy, JsonElement? stretch)
    {
        try
        {
            if (stretch is { ValueKind: not JsonValueKind.Null } st) Stretch(st);
            return strategy is { ValueKind: not JsonValueKind.Null } s ? Strategy(s).Validate() : null;
        }
        catch (DeployRequestException e)
        {
            return e.Message;
        }
    }

    private static DeployTarget Target(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new DeployRequestException("target: expected an object such as {\"nodes\":[\"web-1\"]}, {\"tags\":{\"role\":\"^web$\"}} or {\"all\":true}");
        Known(e, TargetKeys, "target.");
        var nodes = new List<string>();
        if (e.TryGetProperty("nodes", out var list) && list.ValueKind != JsonValueKind.Null)
        {
            if (list.ValueKind != JsonValueKind.Array) throw new DeployRequestException("target.nodes: expected an array of node names");
            foreach (var n in list.EnumerateArray())
            {
                if (n.ValueKind != JsonValueKind.String || n.GetString()!.Length == 0) throw new DeployRequestException("target.nodes: expected node names (non-empty strings)");
                nodes.Add(n.GetString()!);
            }
        }
        var tags = new Dictionary<string, string>(StringComparer.Ordinal);
        if (e.TryGetProperty("tags", out var map) && map.ValueKind != JsonValueKind.Null)
        {
            if (map.ValueKind != JsonValueKind.Object) throw new DeployRequestException("target.tags: expected an object of tag → regular expression");
            foreach (var p in map.EnumerateObject())
            {
                if (p.Value.ValueKind != JsonValueKind.String) throw new DeployRequestException($"target.tags.{p.Name}: expected a regular expression (a string)");
                tags[p.Name] = p.Value.GetString()!;
            }
        }
        var all = false;
        if (e.TryGetProperty("all", out var a) && a.ValueKind != JsonValueKind.Null)
        {
            if (a.ValueKind is not (JsonValueKind.True or JsonValueKind.False)) throw new DeployRequestException("target.all: expected true or false");
            all = a.GetBoolean();
        }
        return new DeployTarget { Nodes = nodes, Tags = tags, All = all };
    }

    private static DeployStrategy Strategy(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new DeployRequestException("strategy: expected an object (batch, max_parallel, failure_threshold, pause, node_timeout)");
        Known(e, StrategyKeys, "strategy.");
        var batches = new List<BatchSize>();
        if (e.TryGetProperty("batch", out var batch) && batch.ValueKind != JsonValueKind.Null)
        {
            if (batch.ValueKind == JsonValueKind.Array)
            {
                var i = 0;
                foreach (var step in batch.EnumerateArray()) batches.Add(Size(step, $"strategy.batch[{i++}]"));
                if (batches.Count == 0) throw new DeployRequestException("strategy.batch: an empty ramp; expected sizes such as [1, 5, \"25%\"]");
            }
            else
            {
                batches.Add(Size(batch, "strategy.batch"));
            }
        }
        var maxParallel = 0;
        if (e.TryGetProperty("max_parallel", out var mp) && mp.ValueKind != JsonValueKind.Null)
        {
            if (mp.ValueKind != JsonValueKind.Number || !mp.TryGetInt32(out maxParallel) || maxParallel < 1)
                throw new DeployRequestException($"strategy.max_parallel: {mp.GetRawText()}; expected a whole number of 1 or more");
        }
        var threshold = BatchSize.Nodes(0);
        if (e.TryGetProperty("failure_threshold", out var ft) && ft.ValueKind != JsonValueKind.Null) threshold = Size(ft, "strategy.failure_threshold", allowZero: true);
        return new DeployStrategy
        {
            Batches = batches,
            MaxParallel = maxParallel,
            FailureThreshold = threshold,
            Pause = Duration(e, "pause") ?? TimeSpan.Zero,
            NodeTimeout = Duration(e, "node_timeout") ?? TimeSpan.FromMinutes(10),
        };
    }

    /// <summary>A count (<c>2</c>) or a percentage (<c>"25%"</c>); a plain number in a string is a count.</summary>
    private static BatchSize Size(JsonElement e, string field, bool allowZero = false)
    {
        var what = allowZero ? "a count of 0 or more, or a percentage from 0% to 100%" : "a count of 1 or more, or a percentage from 1% to 100% such as \"25%\"";
        if (e.ValueKind == JsonValueKind.Number)
        {
            if (!e.TryGetInt32(out var n) || n < (allowZero ? 0 : 1)) throw new DeployRequestException($"{field}: {e.GetRawText()}; expected {what}");
            return BatchSize.Nodes(n);
        }
        if (e.ValueKind == JsonValueKind.String)
        {
            var text = e.GetString()!.Trim();
            if (text.EndsWith('%')
                && int.TryParse(text.AsSpan(0, text.Length - 1), NumberStyles.None, CultureInfo.InvariantCulture, out var pct))
            {
                if (pct > 100 || pct < (allowZero ? 0 : 1)) throw new DeployRequestException($"{field}: \"{text}\"; expected {what}");
                return pct == 0 ? BatchSize.Nodes(0) : BatchSize.Share(pct);
            }
            if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count >= (allowZero ? 0 : 1)) return BatchSize.Nodes(count);
        }
        throw new DeployRequestException($"{field}: {e.GetRawText()}; expected {what}");
    }

    /// <summary>Stretcher's options, as <c>platform stretch</c>'s flags of the same names.</summary>
    private static DeployStretchOptions Stretch(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new DeployRequestException("stretch: expected an object (retry, retry_wait, random_delay, max_bandwidth)");
        Known(e, StretchKeys, "stretch.");
        var retry = 0;
        if (e.TryGetProperty("retry", out var r) && r.ValueKind != JsonValueKind.Null
            && (r.ValueKind != JsonValueKind.Number || !r.TryGetInt32(out retry) || retry < 0))
            throw new DeployRequestException($"stretch.retry: {r.GetRawText()}; expected how many times a failed download is tried again (0 or more)");
        long? bandwidth = null;
        if (e.TryGetProperty("max_bandwidth", out var b) && b.ValueKind != JsonValueKind.Null)
        {
            long n = 0;
            var ok = b.ValueKind switch
            {
                JsonValueKind.Number => b.TryGetInt64(out n),
                JsonValueKind.String => Platform.Agent.Deploy.ByteSize.TryParse(b.GetString()!, out n),
                _ => false,
            };
            bandwidth = n;
            if (!ok || n <= 0) throw new DeployRequestException($"stretch.max_bandwidth: {b.GetRawText()}; expected bytes per second above 0 (such as 1048576, \"10M\" or \"10MiB\")");
        }
        return new DeployStretchOptions
        {
            Retry = retry,
            RetryWaitMs = Duration(e, "retry_wait", "stretch.") is { } wait ? (long)wait.TotalMilliseconds : null,
            RandomDelayMs = (long)(Duration(e, "random_delay", "stretch.") ?? TimeSpan.Zero).TotalMilliseconds,
            MaxBandwidth = bandwidth,
        };
    }

    /// <summary>A Go duration (<c>"30s"</c>, <c>"1m30s"</c>) or a number of seconds.</summary>
    private static TimeSpan? Duration(JsonElement parent, string name, string prefix = "strategy.")
    {
        if (!parent.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind == JsonValueKind.Number && e.TryGetDouble(out var seconds) && seconds >= 0 && seconds < 365 * 86400.0) return TimeSpan.FromSeconds(seconds);
        if (e.ValueKind == JsonValueKind.String && GoDuration.TryParse(e.GetString()!, out var d) && d >= TimeSpan.Zero) return d;
        throw new DeployRequestException($"{prefix}{name}: {e.GetRawText()}; expected a duration such as \"30s\" or \"10m\", or a number of seconds");
    }

    private static DeployNotify Notify(JsonElement e)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new DeployRequestException("on_finish: expected an object such as {\"key\":\"/deploy_notify\",\"event\":\"deployed\"}");
        Known(e, NotifyKeys, "on_finish.");
        var key = OptionalString(e, "key", "on_finish.");
        var name = OptionalString(e, "event", "on_finish.");
        if (name is not null && UserEvents.Validate(name, [], int.MaxValue) is { } bad) throw new DeployRequestException($"on_finish.event: {bad}");
        return new DeployNotify(key, name);
    }

    private static string? OptionalString(JsonElement parent, string name, string prefix = "")
    {
        if (!parent.TryGetProperty(name, out var e) || e.ValueKind == JsonValueKind.Null) return null;
        if (e.ValueKind != JsonValueKind.String) throw new DeployRequestException($"{prefix}{name}: expected a string");
        return e.GetString();
    }

    private static void Known(JsonElement e, HashSet<string> keys, string prefix)
    {
        foreach (var p in e.EnumerateObject())
            if (!keys.Contains(p.Name)) throw new DeployRequestException($"{prefix}{p.Name}: unknown field; expected one of {string.Join(", ", keys)}");
    }
}

/// <summary>A deploy request that cannot be read: the message names the field.</summary>
public sealed class DeployRequestException(string message) : Exception(message);
