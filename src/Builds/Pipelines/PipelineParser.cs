using System.Globalization;
using System.Text.RegularExpressions;
using Platform.Protocol;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Platform.Builds.Pipelines;

/// <summary>
/// Reads <c>.platform/pipeline.yml</c> (schema in docs/builds.md). Every mistake is a <see cref="PipelineException"/> with the
/// file, line, column and what was expected; a step can only name a file of the repository to run, never inline commands.
/// </summary>
public static partial class PipelineParser
{
    /// <summary>How long a step may run when its pipeline says nothing.</summary>
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromHours(1);

    /// <summary>The longest timeout a step may ask for.</summary>
    public static readonly TimeSpan MaxTimeout = TimeSpan.FromDays(1);

    private static readonly string[] s_topKeys = ["env", "steps"];
    private static readonly string[] s_stepKeys =
        ["key", "label", "run", "args", "agents", "timeout", "retry", "env", "artifacts", "depends_on", "concurrency_group", "concurrency", "image", "memory", "network", "branches"];
    private static readonly string[] s_retryKeys = ["automatic"];
    private static readonly string[] s_ruleKeys = ["exit_status", "limit"];

    /// <summary>Parses <paramref name="yaml"/>; <paramref name="isRepositoryFile"/>, when given, checks that each step's <c>run</c> exists.</summary>
    public static Pipeline Parse(string yaml, string file = Pipeline.DefaultPath, Func<string, bool>? isRepositoryFile = null)
    {
        var reader = new YamlReader(file);
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(yaml));
        }
        catch (YamlException e)
        {
            throw new PipelineException(file, (int)e.Start.Line, (int)e.Start.Column, $"not valid YAML: {e.Message}");
        }
        if (stream.Documents.Count == 0) throw new PipelineException(file, 0, 0, "the file is empty; expected a mapping with 'steps'");
        if (stream.Documents.Count > 1) throw reader.Error(stream.Documents[1].RootNode, "the file holds more than one YAML document; expected one");
        var root = reader.Mapping(stream.Documents[0].RootNode, "the pipeline");
        var top = reader.Keys(root, "the pipeline", s_topKeys, ExplainInline);
        var env = top.TryGetValue("env", out var envNode) ? Env(reader, envNode, "env") : new Dictionary<string, string>();
        if (!top.TryGetValue("steps", out var stepsNode)) throw reader.Error(root, "the pipeline has no 'steps'; expected a list of steps");
        var stepList = reader.Sequence(stepsNode, "steps");
        if (stepList.Children.Count == 0) throw reader.Error(stepsNode, "'steps' is empty; expected at least one step");

        var steps = new List<PipelineStep>();
        var nodes = new Dictionary<string, YamlNode>(StringComparer.Ordinal);
        var dependencyNodes = new Dictionary<string, List<(string, YamlNode)>>(StringComparer.Ordinal);
        foreach (var node in stepList.Children)
        {
            var (step, dependsOn) = Step(reader, node, isRepositoryFile);
            if (!nodes.TryAdd(step.Key, node)) throw reader.Error(node, $"two steps have the key '{step.Key}'; keys must be unique");
            dependencyNodes[step.Key] = dependsOn;
            steps.Add(step);
        }
        foreach (var (key, deps) in dependencyNodes)
            foreach (var (dep, depNode) in deps)
            {
                if (dep == key) throw reader.Error(depNode, $"step '{key}' depends on itself");
                if (!nodes.ContainsKey(dep)) throw reader.Error(depNode, $"step '{key}' depends on '{dep}', which is not a step of this pipeline (steps: {string.Join(", ", nodes.Keys)})");
            }
        if (FindCycle(steps) is { } cycle)
            throw reader.Error(nodes[cycle[0]], $"depends_on makes a cycle: {string.Join(" → ", cycle)}");
        return new Pipeline(env, steps);
    }

    private static string? ExplainInline(string key) => key is "command" or "commands" or "script" or "run_inline" or "sh"
        ? $"'{key}' is not allowed: a step runs a file of the repository, named with 'run' (and 'args'), never an inline script"
        : null;

    private static (PipelineStep Step, List<(string, YamlNode)> DependsOn) Step(YamlReader r, YamlNode node, Func<string, bool>? isRepositoryFile)
    {
        var map = r.Mapping(node, "a step");
        var keys = r.Keys(map, "a step", s_stepKeys, ExplainInline);
        if (!keys.TryGetValue("key", out var keyNode)) throw r.Error(node, "a step has no 'key'; expected a short unique name such as 'test'");
        var key = r.NonEmpty(keyNode, "key");
        if (!StepKey().IsMatch(key)) throw r.Error(keyNode, $"key '{key}' must be 1 to 100 letters, digits, '-' or '_'");
        var what = $"step '{key}'";

        if (!keys.TryGetValue("run", out var runNode)) throw r.Error(node, $"{what} has no 'run'; expected the path of a script or executable in the repository, such as scripts/test.sh");
        var run = RepositoryPath(r, runNode, $"{what}: run");
        if (isRepositoryFile is not null && !isRepositoryFile(run))
            throw r.Error(runNode, $"{what}: run '{run}' is not a file of the repository at this commit");

        var args = keys.TryGetValue("args", out var argsNode)
            ? r.Sequence(argsNode, $"{what}: args").Children.Select(a => r.Scalar(a, $"{what}: each of args")).ToList()
            : [];
        var agents = keys.TryGetValue("agents", out var agentsNode) ? r.StringMap(agentsNode, $"{what}: agents") : new Dictionary<string, string>();
        var timeout = keys.TryGetValue("timeout", out var timeoutNode) ? Timeout(r, timeoutNode, what) : DefaultTimeout;
        var retry = keys.TryGetValue("retry", out var retryNode) ? Retry(r, retryNode, what) : [];
        var env = keys.TryGetValue("env", out var envNode) ? Env(r, envNode, $"{what}: env") : new Dictionary<string, string>();
        var artifacts = keys.TryGetValue("artifacts", out var artifactsNode)
            ? r.OneOrMany(artifactsNode, $"{what}: artifacts").Select(a => RepositoryPath(r, a.Node, $"{what}: artifact")).ToList()
            : [];
        var dependsOn = keys.TryGetValue("depends_on", out var depsNode) ? r.OneOrMany(depsNode, $"{what}: depends_on") : [];

        string? group = keys.TryGetValue("concurrency_group", out var groupNode) ? r.NonEmpty(groupNode, $"{what}: concurrency_group") : null;
        var concurrency = 1;
        if (keys.TryGetValue("concurrency", out var concurrencyNode))
        {
            if (group is null) throw r.Error(concurrencyNode, $"{what}: concurrency needs a concurrency_group to count in");
            concurrency = r.Integer(concurrencyNode, $"{what}: concurrency", 1, 1000);
        }

        ContainerSpec? container = null;
        if (keys.TryGetValue("image", out var imageNode))
        {
            var image = r.NonEmpty(imageNode, $"{what}: image");
            if (!ImageReference().IsMatch(image)) throw r.Error(imageNode, $"{what}: image '{image}' is not an image reference such as localhost/builder:1");
            long? memory = keys.TryGetValue("memory", out var memoryNode) ? Memory(r, memoryNode, what) : null;
            var network = keys.TryGetValue("network", out var networkNode) ? r.NonEmpty(networkNode, $"{what}: network") : "bridge";
            if (!NetworkName().IsMatch(network)) throw r.Error(networkNode!, $"{what}: network '{network}' is not a network name (none, bridge, host or a named network)");
            container = new ContainerSpec(image, memory, network);
        }
        else
        {
            foreach (var containerOnly in new[] { "memory", "network" })
                if (keys.TryGetValue(containerOnly, out var n)) throw r.Error(n, $"{what}: {containerOnly} applies to a step run in a container; add 'image'");
        }

        var branches = BranchFilter.All;
        if (keys.TryGetValue("branches", out var branchesNode))
        {
            var text = string.Join(' ', r.OneOrMany(branchesNode, $"{what}: branches").Select(b => b.Value));
            try
            {
                branches = BranchFilter.Parse(text);
            }
            catch (FormatException e)
            {
                throw r.Error(branchesNode, $"{what}: branches: {e.Message}");
            }
        }

        var label = keys.TryGetValue("label", out var labelNode) ? r.NonEmpty(labelNode, $"{what}: label") : key;
        var step = new PipelineStep(key, label, run, args, agents, timeout, retry, env, artifacts, [.. dependsOn.Select(d => d.Value)],
            group, concurrency, container, branches, (int)node.Start.Line);
        return (step, dependsOn);
    }

    /// <summary>A relative path that stays inside the checkout.</summary>
    private static string RepositoryPath(YamlReader r, YamlNode node, string what)
    {
        var path = r.NonEmpty(node, what);
        if (path.StartsWith('/') || path.Contains('\\') || path.Contains('\0'))
            throw r.Error(node, $"{what} '{path}' must be a relative path inside the repository, with '/' separators");
        var segments = path.Split('/');
        if (segments.Any(s => s == ".."))
            throw r.Error(node, $"{what} '{path}' leaves the repository ('..'); expected a path inside it");
        return string.Join('/', segments.Where(s => s.Length > 0 && s != "."));
    }

    private static TimeSpan Timeout(YamlReader r, YamlNode node, string what)
    {
        var text = r.NonEmpty(node, $"{what}: timeout");
        if (!GoDuration.TryParse(text, out var timeout))
            throw r.Error(node, $"{what}: timeout '{text}' is not a duration; expected a number with a unit, such as 90s, 10m or 1h30m");
        if (timeout <= TimeSpan.Zero || timeout > MaxTimeout)
            throw r.Error(node, $"{what}: timeout '{text}' must be more than 0 and at most {GoDuration.Format(MaxTimeout)}");
        return timeout;
    }

    private static IReadOnlyList<RetryRule> Retry(YamlReader r, YamlNode node, string what)
    {
        var keys = r.Keys(r.Mapping(node, $"{what}: retry"), $"{what}: retry", s_retryKeys);
        if (!keys.TryGetValue("automatic", out var automatic)) return [];
        switch (automatic)
        {
            case YamlScalarNode scalar:
                return r.Scalar(scalar, $"{what}: retry.automatic") switch
                {
                    "true" => [RetryRule.Default],
                    "false" => [],
                    var other => throw r.Error(scalar, $"{what}: retry.automatic is '{other}'; expected true, false, a rule or a list of rules"),
                };
            case YamlMappingNode rule:
                return [Rule(r, rule, what)];
            default:
                return [.. r.Sequence(automatic, $"{what}: retry.automatic").Children.Select(c => Rule(r, c, what))];
        }
    }

    private static RetryRule Rule(YamlReader r, YamlNode node, string what)
    {
        var keys = r.Keys(r.Mapping(node, $"{what}: a retry rule"), $"{what}: a retry rule", s_ruleKeys);
        var limit = keys.TryGetValue("limit", out var limitNode) ? r.Integer(limitNode, $"{what}: retry limit", 0, RetryRule.MaxLimit) : RetryRule.Default.Limit;
        List<int>? statuses = null;
        if (keys.TryGetValue("exit_status", out var statusNode) && !(statusNode is YamlScalarNode { Value: "*" }))
        {
            statuses = [];
            foreach (var (_, n) in r.OneOrMany(statusNode, $"{what}: exit_status"))
            {
                var status = r.Integer(n, $"{what}: exit_status (-1: the agent was lost)", -1, 255);
                if (status == 0) throw r.Error(n, $"{what}: exit_status 0 is a success, never retried");
                statuses.Add(status);
            }
        }
        return new RetryRule(statuses, limit);
    }

    private static Dictionary<string, string> Env(YamlReader r, YamlNode node, string what)
    {
        var env = r.StringMap(node, what);
        foreach (var (k, v) in r.Mapping(node, what).Children)
        {
            var name = r.Scalar(k, what);
            if (!EnvName().IsMatch(name)) throw r.Error(k, $"{what}: '{name}' is not a variable name; expected letters, digits and '_', not starting with a digit");
            if (name.StartsWith("PLATFORM_", StringComparison.Ordinal)) throw r.Error(k, $"{what}: '{name}' is set by the build itself (PLATFORM_ variables are reserved)");
        }
        return env;
    }

    private static long Memory(YamlReader r, YamlNode node, string what)
    {
        var text = r.NonEmpty(node, $"{what}: memory");
        var m = MemorySize().Match(text);
        if (!m.Success) throw r.Error(node, $"{what}: memory '{text}' is not a size; expected a number with k, m or g, such as 512m or 2g");
        var multiplier = m.Groups[2].Value.ToLowerInvariant() switch { "k" => 1L << 10, "m" => 1L << 20, "g" => 1L << 30, _ => 1L };
        if (!long.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var amount) || amount == 0 || amount > (1L << 50) / multiplier)
            throw r.Error(node, $"{what}: memory '{text}' must be more than 0 and at most 1024 TiB");
        var bytes = amount * multiplier;
        if (bytes < 6L << 20) throw r.Error(node, $"{what}: memory '{text}' is below the 6m container engines accept");
        return bytes;
    }

    /// <summary>A dependency cycle as the keys along it (first repeated last), or null.</summary>
    internal static List<string>? FindCycle(IReadOnlyList<PipelineStep> steps)
    {
        var byKey = steps.ToDictionary(s => s.Key, StringComparer.Ordinal);
        var state = new Dictionary<string, int>(StringComparer.Ordinal); // 1: on the path, 2: done
        var path = new List<string>();
        foreach (var step in steps)
            if (Visit(step.Key) is { } cycle) return cycle;
        return null;

        List<string>? Visit(string key)
        {
            if (state.TryGetValue(key, out var s))
            {
                if (s == 2) return null;
                var start = path.IndexOf(key);
                return [.. path.Skip(start), key];
            }
            state[key] = 1;
            path.Add(key);
            foreach (var dep in byKey[key].DependsOn)
                if (Visit(dep) is { } cycle) return cycle;
            path.RemoveAt(path.Count - 1);
            state[key] = 2;
            return null;
        }
    }

    [GeneratedRegex("^[A-Za-z0-9_-]{1,100}$")]
    private static partial Regex StepKey();

    [GeneratedRegex("^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex EnvName();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9._/:@-]*$")]
    private static partial Regex ImageReference();

    [GeneratedRegex(@"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
    private static partial Regex NetworkName();

    [GeneratedRegex(@"^([0-9]+)([kKmMgG]?)[bB]?$")]
    private static partial Regex MemorySize();
}
