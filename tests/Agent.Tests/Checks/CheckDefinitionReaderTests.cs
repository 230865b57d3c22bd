using System.Text.Json;
using Platform.Agent.Checks;

namespace Platform.Agent.Tests.Checks;

public sealed class CheckDefinitionReaderTests
{
    private static readonly CheckOptions s_scripts = new() { EnableScriptChecks = true };

    private static IReadOnlyList<CheckDefinition> Read(string json, CheckOptions? options = null)
    {
        using var document = JsonDocument.Parse(json);
        return CheckDefinitionReader.Read(document.RootElement, options ?? s_scripts);
    }

    private static string Refused(string json, CheckOptions? options = null)
        => Assert.Throws<CheckDefinitionException>(() => Read(json, options)).Message;

    [Fact]
    public void Every_kind_is_read_with_Consul_defaults()
    {
        var checks = Read("""
            [
              {"name": "mem", "args": ["/usr/local/bin/check_mem", "-limit", "256MB"], "interval": "10s"},
              {"id": "disk", "name": "Disk", "script": "df -h /", "interval": "1m30s", "timeout": "5s", "notes": "root fs"},
              {"name": "web", "http": "https://localhost:5000/health", "method": "POST", "header": {"X-Token": ["a", "b"]},
               "body": "{}", "interval": "10s", "status": "passing"},
              {"name": "ssh", "tcp": "localhost:22", "interval": "10s"},
              {"name": "app", "ttl": "30s"}
            ]
            """);

        Assert.Collection(checks,
            mem =>
            {
                Assert.Equal(("mem", "mem", CheckKind.Script), (mem.Id, mem.Name, mem.Kind));
                Assert.Equal(["/usr/local/bin/check_mem", "-limit", "256MB"], mem.Args);
                Assert.Equal(TimeSpan.FromSeconds(10), mem.Interval);
                Assert.Equal(TimeSpan.FromSeconds(30), mem.EffectiveTimeout);
                Assert.Equal(CheckStatus.Critical, mem.InitialStatus);
            },
            disk =>
            {
                Assert.Equal(("disk", "Disk", "df -h /", "root fs"), (disk.Id, disk.Name, disk.Script, disk.Notes));
                Assert.Equal(TimeSpan.FromSeconds(90), disk.Interval);
                Assert.Equal(TimeSpan.FromSeconds(5), disk.EffectiveTimeout);
            },
            web =>
            {
                Assert.Equal(CheckKind.Http, web.Kind);
                Assert.Equal("https://localhost:5000/health", web.Http!.OriginalString);
                Assert.Equal(("POST", "{}", CheckStatus.Passing), (web.Method, web.Body, web.InitialStatus));
                Assert.Equal(["a", "b"], web.Header["X-Token"]);
                Assert.Equal(TimeSpan.FromSeconds(10), web.EffectiveTimeout);
            },
            ssh =>
            {
                Assert.Equal((CheckKind.Tcp, "localhost:22"), (ssh.Kind, ssh.Tcp));
                Assert.Equal(TimeSpan.FromSeconds(10), ssh.EffectiveTimeout);
            },
            app =>
            {
                Assert.Equal((CheckKind.Ttl, TimeSpan.FromSeconds(30)), (app.Kind, app.Ttl));
                Assert.Null(app.Interval);
            });
    }

    [Fact]
    public void One_check_object_is_read_as_Consul_check_key()
    {
        var check = Assert.Single(Read("""{"id": "api", "name": "API", "http": "http://localhost:5000/health", "interval": "10s"}"""));
        Assert.Equal(("api", "API"), (check.Id, check.Name));
    }

    [Fact]
    public void CamelCase_keys_of_Consul_HTTP_API_are_read_too()
    {
        var check = Assert.Single(Read("""
            [{"CheckID": "web", "Name": "Web", "HTTP": "http://localhost/", "Interval": "5s",
              "SuccessBeforePassing": 2, "FailuresBeforeCritical": 3, "ScriptArgs": null}]
            """.Replace(", \"ScriptArgs\": null", "")));
        Assert.Equal(("web", 2, 3, 3), (check.Id, check.SuccessBeforePassing, check.FailuresBeforeCritical, check.FailuresBeforeWarning));
    }

    [Fact]
    public void Failures_before_warning_defaults_to_failures_before_critical()
    {
        var checks = Read("""
            [{"name": "a", "tcp": "localhost:1", "interval": "1s", "failures_before_critical": 4},
             {"name": "b", "tcp": "localhost:1", "interval": "1s", "failures_before_critical": 4, "failures_before_warning": 1}]
            """);
        Assert.Equal(4, checks[0].FailuresBeforeWarning);
        Assert.Equal(1, checks[1].FailuresBeforeWarning);
    }

    [Fact]
    public void Check_with_both_http_and_tcp_is_refused_naming_both()
        => Assert.Equal(
            "check 'web' has 'http' and 'tcp'; expected exactly one of args, script, http, tcp, ttl",
            Refused("""[{"name": "web", "http": "http://localhost/", "tcp": "localhost:80", "interval": "10s"}]"""));

    [Fact]
    public void Check_with_no_kind_is_refused()
        => Assert.Equal(
            "check 'web' has none of args, script, http, tcp, ttl; expected exactly one of them",
            Refused("""[{"name": "web", "interval": "10s"}]"""));

    [Fact]
    public void Check_without_name_is_refused_by_position()
        => Assert.Equal(
            "checks[1] (id 'x') has no 'name'; expected a name such as \"web\"",
            Refused("""[{"name": "a", "ttl": "1s"}, {"id": "x", "ttl": "1s"}]"""));

    [Fact]
    public void Interval_check_without_interval_is_refused()
        => Assert.Equal(
            "check 'ssh' has 'tcp' but no 'interval'; expected a Go duration such as \"10s\"",
            Refused("""[{"name": "ssh", "tcp": "localhost:22"}]"""));

    [Fact]
    public void Ttl_check_with_interval_is_refused()
        => Assert.Contains("has both 'ttl' and 'interval'", Refused("""[{"name": "app", "ttl": "10s", "interval": "10s"}]"""));

    [Fact]
    public void Ttl_check_with_a_threshold_is_refused()
        => Assert.Contains(
            "check 'app' has 'failures_before_critical', which a 'ttl' check does not take",
            Refused("""[{"name": "app", "ttl": "10s", "failures_before_critical": 2}]"""));

    [Theory]
    [InlineData("\"10\"", "'interval' \"10\"; expected a Go duration such as \"10s\" or \"1m30s\"")]
    [InlineData("\"ten seconds\"", "'interval' \"ten seconds\"; expected a Go duration")]
    [InlineData("10", "'interval' 10; expected a Go duration")]
    [InlineData("\"0s\"", "'interval' \"0s\"; expected a duration above zero")]
    [InlineData("\"-5s\"", "'interval' \"-5s\"; expected a duration above zero")]
    public void Bad_duration_is_refused_naming_key_and_value(string interval, string expected)
        => Assert.Contains(
            "check 'ssh' has " + expected,
            Refused($$"""[{"name": "ssh", "tcp": "localhost:22", "interval": {{interval}}}]"""));

    [Fact]
    public void Unknown_key_is_refused_with_the_keys_a_check_takes()
    {
        var message = Refused("""[{"name": "g", "grpc": "localhost:9000", "interval": "10s"}]""");
        Assert.StartsWith("checks[0] has key 'grpc', which a check does not take; expected keys: id, name,", message);
    }

    [Fact]
    public void Unknown_status_is_refused()
        => Assert.Equal(
            "check 'app' has 'status' \"ok\"; expected passing, warning or critical",
            Refused("""[{"name": "app", "ttl": "10s", "status": "ok"}]"""));

    [Theory]
    [InlineData("-1")]
    [InlineData("1.5")]
    [InlineData("\"2\"")]
    public void Threshold_that_is_not_a_whole_number_is_refused(string value)
        => Assert.Contains(
            $"check 'ssh' has 'success_before_passing' {value}; expected a whole number of 0 or more",
            Refused($$"""[{"name": "ssh", "tcp": "localhost:22", "interval": "1s", "success_before_passing": {{value}}}]"""));

    [Fact]
    public void Two_checks_with_one_id_are_refused()
        => Assert.Contains(
            "check id 'web' is defined twice",
            Refused("""[{"name": "web", "ttl": "1s"}, {"id": "web", "name": "other", "ttl": "1s"}]"""));

    [Fact]
    public void Script_check_is_refused_unless_script_checks_are_enabled()
        => Assert.Equal(
            "check 'mem' runs a command ('args'), but script checks are disabled; set enable_local_script_checks (or enable_script_checks) to true to allow them",
            Refused("""[{"name": "mem", "args": ["true"], "interval": "10s"}]""", new CheckOptions()));

    [Theory]
    [InlineData("""{"name": "ssh", "tcp": "localhost", "interval": "1s"}""", "'tcp' \"localhost\"; expected host:port")]
    [InlineData("""{"name": "ssh", "tcp": "localhost:99999", "interval": "1s"}""", "'tcp' \"localhost:99999\"; expected host:port")]
    [InlineData("""{"name": "ssh", "http": "/health", "interval": "1s"}""", "'http' \"/health\"; expected an absolute http or https URL")]
    [InlineData("""{"name": "ssh", "http": "ftp://host/x", "interval": "1s"}""", "'http' \"ftp://host/x\"; expected an absolute http or https URL")]
    [InlineData("""{"name": "ssh", "http": "http://h/", "header": {"X": "v"}, "interval": "1s"}""", "header 'X' \"v\"; expected an object of header names to arrays of values")]
    [InlineData("""{"name": "ssh", "tcp": "h:1", "method": "POST", "interval": "1s"}""", "'method', which only an 'http' check takes")]
    [InlineData("""{"name": "ssh", "args": [], "interval": "1s"}""", "'args' an array; expected a non-empty array of strings")]
    [InlineData("""{"name": "ssh", "args": ["ls", 3], "interval": "1s"}""", "an item of 'args' that is 3; expected a non-empty array of strings")]
    [InlineData("""{"name": "ssh", "script": " ", "interval": "1s"}""", "an empty 'script'; expected a shell line")]
    public void Bad_target_is_refused_naming_the_check_and_key(string check, string expected)
        => Assert.Contains("check 'ssh' has " + expected, Refused("[" + check + "]"));

    [Fact]
    public void Checks_value_that_is_not_an_array_is_refused()
        => Assert.StartsWith("checks is \"web\"; expected an array of check objects", Refused("\"web\""));
}
