using System.CommandLine;
using Platform.Client;
using Platform.Protocol;

namespace Platform.Cli.Tests;

/// <summary>The command line: Serf's single-dash spellings and the double-dash ones give the same values; bad input is a usage error (exit 2).</summary>
public sealed class ParsingTests
{
    private static readonly CliContext Context = new(TextWriter.Null, TextWriter.Null) { UrlEnvironment = null, HostName = "this-host" };

    private static ParseResult Parse(params string[] args)
    {
        var parse = PlatformCli.Parse(args, Context);
        Assert.Empty(parse.Errors);
        return parse;
    }

    [Theory]
    [InlineData("-")]
    [InlineData("--")]
    public void Members_filters_parse_in_serf_and_double_dash_spellings(string dash)
    {
        var parse = Parse("members", dash + "status", "alive", dash + "name", "^web", dash + "tag", "role=web.*", dash + "tag", "dc=east", dash + "format", "json", dash + "detailed");
        Assert.Equal("members", parse.CommandResult.Command.Name);
        Assert.Equal("alive", parse.GetValue<string>("--status"));
        Assert.Equal("^web", parse.GetValue<string>("--name"));
        Assert.Equal([new TagFilter("role", "web.*"), new TagFilter("dc", "east")], parse.GetValue<TagFilter[]>("--tag")!);
        Assert.Equal("json", parse.GetValue<string>("--format"));
        Assert.True(parse.GetValue<bool>("--detailed"));
    }

    [Fact]
    public void Query_flags_parse_as_serf_query_takes_them()
    {
        var parse = Parse("query", "-node", "a", "-node", "b", "-tag", "role=web", "-timeout", "1m30s", "-no-ack", "-format", "json", "uptime", "payload text");
        Assert.Equal(["a", "b"], parse.GetValue<string[]>("--node")!);
        Assert.Equal(TimeSpan.FromSeconds(90), parse.GetValue<TimeSpan?>("--timeout"));
        Assert.True(parse.GetValue<bool>("--no-ack"));
        Assert.Equal("uptime", parse.GetValue<string>("name"));
        Assert.Equal("payload text", parse.GetValue<string>("payload"));
    }

    [Fact]
    public void Event_coalesce_false_with_equals_turns_coalescing_off()
    {
        Assert.False(Parse("event", "-coalesce=false", "deploy", "v1").GetValue<bool>("--coalesce"));
        Assert.False(Parse("event", "--coalesce=false", "deploy").GetValue<bool>("--coalesce"));
        Assert.True(Parse("event", "deploy").GetValue<bool>("--coalesce"));
    }

    [Fact]
    public void Url_is_repeatable_before_or_after_the_command()
    {
        Assert.Equal(["http://a:1", "http://b:2"], Parse("--url", "http://a:1", "members", "-url", "http://b:2").GetValue<string[]>("--url")!);
    }

    [Fact]
    public void Tags_and_leave_default_to_this_machines_host_name()
    {
        Assert.Equal("this-host", Parse("tags", "-set", "role=web").GetValue<string>("--node"));
        Assert.Equal("other", Parse("leave", "-node", "other").GetValue<string>("--node"));
        Assert.Equal("this-host", Parse("leave").GetValue<string>("--node"));
    }

    [Fact]
    public void A_payload_starting_with_at_is_not_read_as_a_response_file()
    {
        Assert.Equal("@release.json", Parse("event", "deploy", "@release.json").GetValue<string>("payload"));
    }

    [Theory]
    [InlineData("15s", 15_000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("500ms", 500)]
    [InlineData("1.5s", 1_500)]
    [InlineData("2h", 7_200_000)]
    public void Go_durations_parse(string text, int milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var d));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), d);
    }

    [Theory]
    [InlineData("15")]
    [InlineData("5x")]
    [InlineData("s")]
    [InlineData("")]
    public void Strings_that_are_not_go_durations_do_not_parse(string text) => Assert.False(GoDuration.TryParse(text, out _));

    [Theory]
    [InlineData(new[] { "members", "-tag", "role" }, "tag filter 'role' is not valid; expected key=regexp")]
    [InlineData(new[] { "members", "-tag", "role=(" }, "tag filter 'role=(': the regexp '(' does not compile")]
    [InlineData(new[] { "query", "-tag", "=web", "q" }, "tag filter '=web' is not valid")]
    [InlineData(new[] { "members", "-name", "[" }, "-name '[': the regexp '[' does not compile")]
    [InlineData(new[] { "members", "-format", "xml" }, "'xml'")]
    [InlineData(new[] { "query", "-timeout", "5x", "q" }, "-timeout '5x' is not a duration")]
    [InlineData(new[] { "tags", "-set", "role" }, "-set 'role' is not valid; expected key=value")]
    [InlineData(new[] { "tags" }, "tags needs at least one -set key=value or -delete key")]
    [InlineData(new[] { "event" }, "'event' needs a name; expected: platform event [options] <name> [payload]")]
    [InlineData(new[] { "event", "_reserved" }, "user event name '_reserved' starts with '_', which is reserved")]
    [InlineData(new[] { "monitor", "-log-level", "loud" }, "-log-level 'loud' is not a level")]
    [InlineData(new[] { "members", "--url", "not a url" }, "silo URL 'not a url' (from --url) is not valid")]
    [InlineData(new[] { "frobnicate" }, "frobnicate")]
    public async Task Bad_input_is_a_usage_error_naming_it_before_any_silo_is_called(string[] args, string expected)
    {
        // A silo that refuses connections: had the command called it, the exit code would be 1, not 2.
        var refused = $"http://127.0.0.1:{Support.SerfCluster.FreePort()}";
        var (code, stdout, stderr) = await RunAsync([.. args, "--url", refused]);
        Assert.Equal(2, code);
        Assert.Contains(expected, stderr);
        Assert.DoesNotContain("connecting", stderr);
        Assert.Equal("", stdout);
    }

    [Fact]
    public async Task Platform_url_environment_is_split_at_commas()
    {
        var a = $"http://127.0.0.1:{Support.SerfCluster.FreePort()}";
        var b = $"http://127.0.0.1:{Support.SerfCluster.FreePort()}";
        var (code, _, stderr) = await RunAsync(["members"], environment: $"{a}, {b}");
        Assert.Equal(1, code);
        Assert.Contains($"tried {a} (connection refused), {b} (connection refused)", stderr);
    }

    internal static async Task<(int Code, string StdOut, string StdErr)> RunAsync(string[] args, string? environment = null)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        var context = new CliContext(stdout, stderr) { UrlEnvironment = environment, HostName = "this-host" };
        var code = await PlatformCli.RunAsync(args, context, CancellationToken.None);
        return (code, stdout.ToString(), stderr.ToString());
    }
}
