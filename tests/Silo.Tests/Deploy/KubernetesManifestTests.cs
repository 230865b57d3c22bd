using System.Text.Json;
using System.Text.RegularExpressions;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Deploy;

/// <summary>
/// deploy/k8s checked with Kubernetes' own schemas (the kubernetes-models npm package, pinned in
/// deploy/k8s/validate/package-lock.json), and checked against the silo: probes on its health endpoints, a
/// grace period that fits its shutdown, settings that exist.
/// </summary>
public sealed partial class KubernetesManifestTests(KubernetesManifestTests.Validator validator) : IClassFixture<KubernetesManifestTests.Validator>
{
    private static string Copied(params string[] parts) => Path.Combine([AppContext.BaseDirectory, "deploy", .. parts]);

    /// <summary>The validator installed once (npm ci) for the class.</summary>
    public sealed class Validator : IAsyncLifetime
    {
        private readonly TempDir _dir = new();
        public string Dir => _dir.Path;

        public async Task InitializeAsync()
        {
            foreach (var file in new[] { "package.json", "package-lock.json", "validate.mjs" })
                File.Copy(Copied("k8s", "validate", file), Path.Combine(Dir, file));
            var (exitCode, output) = await NodeJs.RunAsync("npm", Dir, TimeSpan.FromMinutes(2), "ci", "--no-audit", "--no-fund", "--prefer-offline");
            Assert.True(exitCode == 0, $"npm ci exited with {exitCode}:\n{output}");
        }

        public Task DisposeAsync()
        {
            _dir.Dispose();
            return Task.CompletedTask;
        }
    }

    private static async Task<(int ExitCode, List<JsonElement> Objects, string Output)> ValidateAsync(string validatorDir, IEnumerable<string> files)
    {
        var (exitCode, output) = await NodeJs.RunAsync("node", validatorDir, TimeSpan.FromMinutes(1), ["validate.mjs", .. files]);
        var objects = output.Split('\n').Where(l => l.StartsWith('{')).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
        return (exitCode, objects, output);
    }

    private static string[] Manifests() => Directory.GetFiles(Copied("k8s"), "*.yaml").Order(StringComparer.Ordinal).ToArray();

    private static JsonElement Find(List<JsonElement> objects, string kind, string name) =>
        objects.Single(o => o.GetProperty("kind").GetString() == kind && o.GetProperty("name").GetString() == name).GetProperty("object");

    [Fact]
    public async Task Every_manifest_is_valid_for_Kubernetes_and_the_cluster_has_silos_postgres_and_agents()
    {
        var dir = validator.Dir;
        var (exitCode, objects, output) = await ValidateAsync(dir, Manifests());

        Assert.True(exitCode == 0, output);
        var kinds = objects.Select(o => $"{o.GetProperty("kind").GetString()}/{o.GetProperty("name").GetString()}").ToHashSet();
        foreach (var expected in new[] { "StatefulSet/platform", "PodDisruptionBudget/platform", "Service/platform", "StatefulSet/platform-postgres", "DaemonSet/platform-agent", "Secret/platform-tokens", "Secret/platform-tls", "Secret/platform-cluster-tls" })
            Assert.Contains(expected, kinds);
    }

    [Fact]
    public async Task A_manifest_with_a_field_of_the_wrong_type_is_refused_naming_the_file_the_object_and_the_field()
    {
        var dir = validator.Dir;
        var broken = Path.Combine(dir, "broken.yaml");
        await File.WriteAllTextAsync(broken, (await File.ReadAllTextAsync(Copied("k8s", "silo.yaml"))).Replace("containerPort: 8080", "containerPort: http-port"));

        var (exitCode, _, output) = await ValidateAsync(dir, [broken]);

        Assert.Equal(1, exitCode);
        Assert.Contains("broken.yaml: StatefulSet/platform:", output);
        Assert.Contains("containerPort must be integer", output);
    }

    [Fact]
    public async Task Silo_pods_probe_the_health_endpoints_stop_within_their_grace_period_and_advertise_their_pod_IP()
    {
        var dir = validator.Dir;
        var (exitCode, objects, output) = await ValidateAsync(dir, Manifests());
        Assert.True(exitCode == 0, output);

        var pod = Find(objects, "StatefulSet", "platform").GetProperty("spec").GetProperty("template").GetProperty("spec");
        var silo = pod.GetProperty("containers")[0];
        Assert.Equal("/health/ready", silo.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("path").GetString());
        Assert.Equal("/health/live", silo.GetProperty("livenessProbe").GetProperty("httpGet").GetProperty("path").GetString());

        // The pause before SIGTERM plus the silo's own shutdown bound must fit, or Kubernetes kills a silo mid-handoff.
        var preStop = silo.GetProperty("lifecycle").GetProperty("preStop").GetProperty("exec").GetProperty("command");
        var pause = int.Parse(preStop[1].GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        var shutdown = Platform.Silo.Hosting.SiloSetup.ShutdownTimeout;
        Assert.True(pause + shutdown.TotalSeconds < pod.GetProperty("terminationGracePeriodSeconds").GetInt32(),
            $"preStop {pause} s + shutdown {shutdown.TotalSeconds} s do not fit in terminationGracePeriodSeconds");

        var env = silo.GetProperty("env").EnumerateArray().ToDictionary(e => e.GetProperty("name").GetString()!);
        Assert.Equal("status.podIP", env["POD_IP"].GetProperty("valueFrom").GetProperty("fieldRef").GetProperty("fieldPath").GetString());
        Assert.Equal("$(POD_IP)", env["Platform__Cluster__AdvertisedAddress"].GetProperty("value").GetString());
        Assert.Equal("postgres", env["Platform__Storage"].GetProperty("value").GetString());

        var budget = Find(objects, "PodDisruptionBudget", "platform").GetProperty("spec");
        Assert.Equal(1, budget.GetProperty("maxUnavailable").GetInt32());
    }

    [Fact]
    public async Task Silos_serve_https_and_use_TLS_between_them_from_mounted_secrets_and_agents_check_them_against_the_CA()
    {
        var (exitCode, objects, output) = await ValidateAsync(validator.Dir, Manifests());
        Assert.True(exitCode == 0, output);

        var pod = Find(objects, "StatefulSet", "platform").GetProperty("spec").GetProperty("template").GetProperty("spec");
        var silo = pod.GetProperty("containers")[0];
        Assert.Contains("https://0.0.0.0:8080", silo.GetProperty("args").EnumerateArray().Select(a => a.GetString()));
        Assert.Equal("HTTPS", silo.GetProperty("readinessProbe").GetProperty("httpGet").GetProperty("scheme").GetString());
        Assert.Equal("HTTPS", silo.GetProperty("livenessProbe").GetProperty("httpGet").GetProperty("scheme").GetString());
        var env = silo.GetProperty("env").EnumerateArray().Where(e => e.TryGetProperty("value", out _))
            .ToDictionary(e => e.GetProperty("name").GetString()!, e => e.GetProperty("value").GetString()!);
        Assert.Equal("platform-tls", SecretHolding(objects, pod, silo, env["Platform__Tls__Cert"]));
        Assert.Equal("platform-tls", SecretHolding(objects, pod, silo, env["Platform__Tls__Key"]));
        foreach (var setting in new[] { "Platform__Cluster__Tls__CertificateFile", "Platform__Cluster__Tls__KeyFile", "Platform__Cluster__Tls__CaFile" })
            Assert.Equal("platform-cluster-tls", SecretHolding(objects, pod, silo, env[setting]));

        var agentPod = Find(objects, "DaemonSet", "platform-agent").GetProperty("spec").GetProperty("template").GetProperty("spec");
        var agent = agentPod.GetProperty("containers")[0];
        var args = agent.GetProperty("args").EnumerateArray().Select(a => a.GetString()!).ToList();
        Assert.StartsWith("https://", args[args.IndexOf("-server") + 1]);
        var config = JsonDocument.Parse(Find(objects, "ConfigMap", "platform-agent").GetProperty("data").GetProperty("agent.json").GetString()!).RootElement;
        Assert.Equal("platform-tls", SecretHolding(objects, agentPod, agent, config.GetProperty("ca_file").GetString()!));
    }

    /// <summary>The Secret whose key <paramref name="file"/> is, through one of <paramref name="container"/>'s mounts; fails when no Secret of the manifests holds it.</summary>
    private static string SecretHolding(List<JsonElement> objects, JsonElement pod, JsonElement container, string file)
    {
        var mount = container.GetProperty("volumeMounts").EnumerateArray()
            .Single(m => file.StartsWith(m.GetProperty("mountPath").GetString() + "/", StringComparison.Ordinal));
        var relative = file[(mount.GetProperty("mountPath").GetString()!.Length + 1)..];
        var volume = pod.GetProperty("volumes").EnumerateArray().Single(v => v.GetProperty("name").GetString() == mount.GetProperty("name").GetString());
        Assert.True(volume.TryGetProperty("secret", out var secret), $"{file} is not on a Secret's volume");
        Assert.False(secret.TryGetProperty("optional", out var optional) && optional.GetBoolean(), $"{file} is on an optional volume: the process would start without it");
        var key = secret.TryGetProperty("items", out var items)
            ? items.EnumerateArray().Single(i => i.GetProperty("path").GetString() == relative).GetProperty("key").GetString()!
            : relative;
        var name = secret.GetProperty("secretName").GetString()!;
        Assert.True(Find(objects, "Secret", name).GetProperty("stringData").TryGetProperty(key, out _), $"{file}: Secret {name} has no key {key}");
        return name;
    }

    [Fact]
    public void Every_Platform_setting_the_manifests_use_is_one_the_README_documents()
    {
        var readme = File.ReadAllText(Copied("README.md"));
        var used = Manifests().SelectMany(f => SettingName().Matches(File.ReadAllText(f)).Select(m => m.Value)).Distinct().ToList();

        Assert.NotEmpty(used);
        Assert.All(used, name => Assert.True(readme.Contains(name, StringComparison.Ordinal), $"{name} is set in deploy/k8s but not documented in README.md"));
    }

    [GeneratedRegex(@"Platform__[A-Za-z]+(__[A-Za-z]+)*")]
    private static partial Regex SettingName();
}
