using System.Text;
using Platform.Agent.Deploy;

namespace Platform.Agent.Tests.Deploy;

public sealed class StretchEventTests
{
    private static string Base64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Consul_event_list_gives_the_last_events_payload_id_and_ltime()
    {
        var json = $$"""
            [{"ID":"11111111-0000-0000-0000-000000000000","Name":"deploy","Payload":"{{Base64("http://old/manifest.yml")}}","NodeFilter":"","ServiceFilter":"","TagFilter":"","Version":1,"LTime":1},
             {"ID":"1d6731a8-833c-1aff-94e5-aa5e5a77da9f","Name":"deploy","Payload":"{{Base64("s3://example.com/path/to/tar.gz")}}","NodeFilter":"","ServiceFilter":"","TagFilter":"","Version":1,"LTime":2}]
            """;
        var e = StretchEvent.Parse(json, _ => null);
        Assert.Equal(new StretchEvent("s3://example.com/path/to/tar.gz", "deploy", "1d6731a8-833c-1aff-94e5-aa5e5a77da9f", 2, StretchEvent.ConsulForm), e);
    }

    [Fact]
    public void Consul_index_in_the_environment_reads_json_even_after_white_space()
    {
        var e = StretchEvent.Parse($"\n  [{{\"ID\":\"x\",\"Payload\":\"{Base64("http://a/m.yml")}\",\"LTime\":7}}]", n => n == "CONSUL_INDEX" ? "42" : null);
        Assert.Equal("http://a/m.yml", e.ManifestUrl);
        Assert.Equal(7UL, e.LTime);
    }

    [Fact]
    public void Plain_line_is_the_url_and_serf_variables_name_the_event()
    {
        var env = new Dictionary<string, string> { ["SERF_USER_EVENT"] = "deploy", ["SERF_USER_LTIME"] = "12" };
        var e = StretchEvent.Parse("http://h/m.yml\nignored second line\n", env.GetValueOrDefault);
        Assert.Equal(new StretchEvent("http://h/m.yml", "deploy", null, 12, StretchEvent.LineForm), e);
        Assert.Equal(new StretchEvent("file:///m.yml", null, null, null, StretchEvent.LineForm), StretchEvent.Parse("file:///m.yml", _ => null));
    }

    [Theory]
    [InlineData("[]", "No Consul events found")]
    [InlineData("[{\"ID\":\"a\",\"Payload\":\"!!!\"}]", "Payload is not base64")]
    [InlineData("[{\"ID\":\"a\"", "expected a Consul event JSON array")]
    [InlineData("", "expected a manifest URL")]
    public void Bad_input_is_an_error_naming_standard_input(string input, string expected)
    {
        var e = Assert.Throws<DeployException>(() => StretchEvent.Parse(input, _ => null));
        Assert.Contains("standard input", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
