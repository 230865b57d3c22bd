using Platform.Agent.Deploy;

namespace Platform.Agent.Tests.Deploy;

public sealed class ManifestParserTests
{
    private static readonly Func<string, string?> s_noEnvironment = _ => null;

    private static StretchManifest Parse(string yaml, IList<string>? warnings = null) => ManifestParser.Parse(yaml, s_noEnvironment, warnings);

    [Fact]
    public void Every_field_of_Stretchers_manifest_is_read()
    {
        var m = Parse("""
            src: s3://example.com/app.tar.gz
            checksum: E0840DAAA97CD2CF2175F9E5D133FFB3324A2B93
            dest: /home/stretcher/app
            dest_mode: 0711
            commands:
              pre:
                - echo 'starting deploy'
              post: [echo done]
              success:
                - echo ok
              failure:
                - echo 'deploy failed!!'
                - cat >> /path/to/failure.log
            excludes:
              - "*.pid"
              - "*.socket"
            exclude_from: exclude.list
            sync_strategy: mv
            """);
        Assert.Equal("s3://example.com/app.tar.gz", m.Src);
        Assert.Equal("E0840DAAA97CD2CF2175F9E5D133FFB3324A2B93", m.Checksum);
        Assert.Equal("/home/stretcher/app", m.Dest);
        Assert.Equal((UnixFileMode)Convert.ToInt32("711", 8), m.DestMode);
        Assert.Equal(["echo 'starting deploy'"], m.Commands.Pre);
        Assert.Equal(["echo done"], m.Commands.Post);
        Assert.Equal(["echo ok"], m.Commands.Success);
        Assert.Equal(["echo 'deploy failed!!'", "cat >> /path/to/failure.log"], m.Commands.Failure);
        Assert.Equal(["*.pid", "*.socket"], m.Excludes);
        Assert.Equal("exclude.list", m.ExcludeFrom);
        Assert.Equal(SyncStrategy.Move, m.SyncStrategy);
    }

    [Fact]
    public void Defaults_are_Stretchers_rsync_and_mode_0755()
    {
        var m = Parse("src: http://h/a.tar\nchecksum: d41d8cd98f00b204e9800998ecf8427e\ndest: /tmp/x\n");
        Assert.Equal(SyncStrategy.Rsync, m.SyncStrategy);
        Assert.Equal((UnixFileMode)Convert.ToInt32("755", 8), m.DestMode);
        Assert.Empty(m.Excludes);
        Assert.Null(m.ExcludeFrom);
    }

    [Fact]
    public void Unknown_keys_are_warnings_naming_the_key_and_line()
    {
        var warnings = new List<string>();
        var m = Parse("commands:\n  pre: [true]\n  during: [x]\nsource: http://x\n", warnings);
        Assert.Equal(["true"], m.Commands.Pre);
        Assert.Contains(warnings, w => w.Contains("'commands.during'", StringComparison.Ordinal) && w.Contains("line 3", StringComparison.Ordinal));
        Assert.Contains(warnings, w => w.Contains("'source'", StringComparison.Ordinal) && w.Contains("line 4", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("src: http://h/a.tar\nchecksum: d41d8cd98f00b204e9800998ecf8427e\n", "dest is required when src is set")]
    [InlineData("src: http://h/a.tar\ndest: /x\nchecksum: abc123\n", "checksum: expected a hex md5 (32), sha1 (40), sha256 (64) or sha512 (128) digest, got 6 characters")]
    [InlineData("checksum: zz41d8cd98f00b204e9800998ecf8427\n", "checksum: expected a hex")]
    [InlineData("dest_mode: 0899\n", "dest_mode: expected an octal file mode such as 0755, got '0899'")]
    [InlineData("sync_strategy: copy\n", "sync_strategy: expected rsync or mv, got 'copy'")]
    [InlineData("excludes: \"*.pid\"\n", "excludes: expected a list of strings")]
    [InlineData("commands:\n  pre: echo hi\n", "line 2: commands.pre: expected a list of strings")]
    [InlineData("commands: [a]\n", "commands: expected a mapping of pre, post, success, failure")]
    [InlineData("exclude_from: ../etc/passwd\n", "exclude_from: expected a path inside the archive")]
    [InlineData("- just\n- a list\n", "manifest: expected a mapping")]
    public void Bad_fields_are_errors_naming_the_field_and_what_was_expected(string yaml, string expected)
    {
        var e = Assert.Throws<DeployException>(() => Parse(yaml));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_yaml_names_line_and_column()
    {
        var e = Assert.Throws<DeployException>(() => Parse("src: http://x\ndest: [unclosed\nchecksum: a\n"));
        Assert.Matches(@"not valid YAML at line \d+, column \d+", e.Message);
    }

    [Fact]
    public void Env_template_uses_the_variable_or_the_default()
    {
        var env = new Dictionary<string, string> { ["APP_ROOT"] = "/srv/app", ["EMPTY"] = "" };
        var m = ManifestParser.Parse("""
            dest: {{ env "APP_ROOT" "/tmp/default" }}/current
            excludes: ["{{ env `MISSING` `*.tmp` }}", "{{ env "EMPTY" "fallback" }}", "{{ env "UNSET" }}"]
            """, name => env.GetValueOrDefault(name));
        Assert.Equal("/srv/app/current", m.Dest);
        // As Stretcher's template: an empty variable counts as unset, and the last argument is the value when none is set.
        Assert.Equal(["*.tmp", "fallback", "UNSET"], m.Excludes);
    }

    [Fact]
    public void Must_env_gives_the_value_even_when_empty_and_fails_when_undefined()
    {
        var env = new Dictionary<string, string> { ["TOKEN"] = "" };
        var m = ManifestParser.Parse("dest: /a{{ must_env \"TOKEN\" }}\n", name => env.GetValueOrDefault(name));
        Assert.Equal("/a", m.Dest);
        var e = Assert.Throws<DeployException>(() => ManifestParser.Parse("dest: /x\ncommands:\n  pre: [\"echo {{ must_env \"DEPLOY_KEY\" }}\"]\n", s_noEnvironment));
        Assert.Contains("environment variable DEPLOY_KEY is not defined (must_env)", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 3", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("dest: {{ exec \"rm\" }}", "unknown template function 'exec'")]
    [InlineData("dest: {{ env \"A\" ", "is never closed")]
    [InlineData("dest: {{ must_env \"A\" \"B\" }}", "must_env takes exactly one variable name")]
    public void Template_errors_name_the_action(string yaml, string expected)
    {
        var e = Assert.Throws<DeployException>(() => ManifestParser.Parse(yaml, s_noEnvironment));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }
}
