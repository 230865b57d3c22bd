using Platform.Agent.Configuration;
using Platform.Protocol;

namespace Platform.Agent.Tests.Configuration;

public sealed class CommandLineTests
{
    [Fact]
    public void Serf_flags_take_both_spellings_and_repeat()
    {
        var line = CommandLine.Parse([
            "-node", "n1", "--role=web", "-tag", "dc=east", "-tag=rack=r1", "-event-handler", "user:deploy=d.sh",
            "-event-handler=query:load=uptime", "-config-file", "a.json", "-config-dir=conf.d", "-config-file", "b.json",
            "-log-level", "debug", "-bind=0.0.0.0:7947", "-advertise", "10.0.0.9", "-tags-file", "tags.json",
            "-server", "http://s1:8080", "-server=http://s2:8080", "-handler-timeout", "45s", "-handler-concurrency=2",
        ]);

        var f = line.Flags;
        Assert.Equal(("n1", "web"), (f.NodeName, f.Role));
        Assert.Equal(new Dictionary<string, string> { ["dc"] = "east", ["rack"] = "r1" }, f.Tags);
        Assert.Equal(["user:deploy=d.sh", "query:load=uptime"], f.EventHandlers);
        Assert.Equal([("a.json", false), ("conf.d", true), ("b.json", false)], line.ConfigPaths);
        Assert.Equal(("debug", "0.0.0.0:7947", "10.0.0.9", "tags.json"), (f.LogLevel, f.Bind, f.Advertise, f.TagsFile));
        Assert.Equal(["http://s1:8080", "http://s2:8080"], f.Servers);
        Assert.Equal((TimeSpan.FromSeconds(45), 2), (f.HandlerTimeout, f.HandlerConcurrency));
        Assert.False(line.Help);
    }

    [Theory]
    [InlineData(new[] { "-nodes", "a" }, "flag -nodes: unknown flag (see -help)")]
    [InlineData(new[] { "-node" }, "flag -node: needs a value (see -help)")]
    [InlineData(new[] { "-tag", "role" }, "flag -tag 'role': expected KEY=VALUE")]
    [InlineData(new[] { "-tag", "=web" }, "flag -tag '=web': expected KEY=VALUE")]
    [InlineData(new[] { "agent" }, "argument 'agent': expected a flag such as -server URL (see -help)")]
    [InlineData(new[] { "-handler-concurrency", "many" }, "flag -handler-concurrency 'many': expected an integer")]
    [InlineData(new[] { "-handler-timeout", "soon" }, "flag -handler-timeout 'soon': expected a duration such as 30s or 2m")]
    public void Bad_flags_are_errors_naming_the_flag(string[] args, string message)
    {
        var error = Assert.Throws<ConfigException>(() => CommandLine.Parse(args));
        Assert.Equal(message, error.Message);
    }

    [Fact]
    public void Help_is_recognised()
    {
        Assert.True(CommandLine.Parse(["-help"]).Help);
        Assert.True(CommandLine.Parse(["--h"]).Help);
    }

    [Theory]
    [InlineData("500ms", 500)]
    [InlineData("3s", 3000)]
    [InlineData("1m30s", 90_000)]
    [InlineData("1.5h", 5_400_000)]
    [InlineData("0", 0)]
    public void Go_durations_parse(string text, int milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("30")]
    [InlineData("3 s")]
    [InlineData("3d")]
    [InlineData("s")]
    [InlineData("-")]
    public void Non_go_durations_are_refused(string text) => Assert.False(GoDuration.TryParse(text, out _));
}
