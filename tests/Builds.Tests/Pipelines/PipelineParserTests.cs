using Platform.Builds.Pipelines;

namespace Platform.Builds.Tests.Pipelines;

public sealed class PipelineParserTests
{
    private const string Full = """
        env:
          GOFLAGS: -mod=vendor
        steps:
          - key: build
            label: Build the binaries
            run: scripts/build.sh
            args: [--release, "x y"]
            agents: { os: linux, role: "build*" }
            timeout: 15m
            env: { TARGET: amd64 }
            artifacts: [dist/app.tar.gz, "dist/*.sha256"]
            branches: "main release/* !release/old*"
          - key: test
            run: ./scripts/test.sh
            depends_on: build
            retry:
              automatic:
                - exit_status: -1
                  limit: 2
                - exit_status: [2, 3]
                  limit: 1
            image: localhost/builder:1
            memory: 512m
            network: none
          - key: deploy
            run: scripts/deploy.sh
            depends_on: [build, test]
            concurrency_group: deploy/prod
            concurrency: 1
            retry: { automatic: true }
        """;

    [Fact]
    public void A_full_pipeline_reads_into_steps_with_every_field()
    {
        var pipeline = PipelineParser.Parse(Full);

        Assert.Equal("-mod=vendor", pipeline.Env["GOFLAGS"]);
        Assert.Equal(["build", "test", "deploy"], pipeline.Steps.Select(s => s.Key));
        var build = pipeline.Steps[0];
        Assert.Equal("Build the binaries", build.Label);
        Assert.Equal("scripts/build.sh", build.Run);
        Assert.Equal(["--release", "x y"], build.Args);
        Assert.Equal("build*", build.Agents["role"]);
        Assert.Equal(TimeSpan.FromMinutes(15), build.Timeout);
        Assert.Equal(["dist/app.tar.gz", "dist/*.sha256"], build.Artifacts);
        Assert.True(build.Branches.Matches("release/2.0"));
        Assert.False(build.Branches.Matches("release/old-1"));
        Assert.False(build.Branches.Matches("feature/x"));
        Assert.Equal(4, build.Line);

        var test = pipeline.Steps[1];
        Assert.Equal("scripts/test.sh", test.Run);
        Assert.Equal(["build"], test.DependsOn);
        Assert.Equal(new ContainerSpec("localhost/builder:1", 512L << 20, "none"), test.Container);
        Assert.Equal(PipelineParser.DefaultTimeout, test.Timeout);
        Assert.True(RetryRule.ShouldRetry(test.Retry, -1, 1, cancelled: false));
        Assert.False(RetryRule.ShouldRetry(test.Retry, -1, 2, cancelled: false));
        Assert.True(RetryRule.ShouldRetry(test.Retry, 3, 0, cancelled: false));
        Assert.False(RetryRule.ShouldRetry(test.Retry, 1, 0, cancelled: false));

        var deploy = pipeline.Steps[2];
        Assert.Equal("deploy/prod", deploy.ConcurrencyGroup);
        Assert.Equal(1, deploy.Concurrency);
        Assert.Equal([RetryRule.Default], deploy.Retry);
        Assert.Null(deploy.Container);
    }

    [Fact]
    public void A_cancelled_job_is_never_retried()
    {
        Assert.False(RetryRule.ShouldRetry([RetryRule.Default], 143, 0, cancelled: true));
        Assert.True(RetryRule.ShouldRetry([RetryRule.Default], 143, 0, cancelled: false));
        Assert.False(RetryRule.ShouldRetry([RetryRule.Default], 0, 0, cancelled: false));
    }

    [Theory]
    [InlineData("steps:\n  - key: a\n    command: make test\n", 3, 5, "'command' is not allowed: a step runs a file of the repository")]
    [InlineData("steps:\n  - key: a\n    run: x.sh\n    commandz: 1\n", 4, 5, "unknown key 'commandz' in a step; expected one of: key, label, run")]
    [InlineData("script: make\nsteps: []\n", 1, 1, "'script' is not allowed")]
    [InlineData("steps:\n  - key: a\n    run: x.sh\n    timeout: 0s\n", 4, 14, "step 'a': timeout '0s' must be more than 0")]
    [InlineData("steps:\n  - key: a\n    run: x.sh\n    timeout: 10\n", 4, 14, "step 'a': timeout '10' is not a duration")]
    [InlineData("steps:\n  - key: a\n    run: ../x.sh\n", 3, 10, "step 'a': run '../x.sh' leaves the repository")]
    [InlineData("steps:\n  - key: a\n    run: /usr/bin/make\n", 3, 10, "must be a relative path inside the repository")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    depends_on: b\n", 4, 17, "step 'a' depends on 'b', which is not a step of this pipeline")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    depends_on: a\n", 4, 17, "step 'a' depends on itself")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n  - key: a\n    run: b.sh\n", 4, 5, "two steps have the key 'a'")]
    [InlineData("steps:\n  - run: a.sh\n", 2, 5, "a step has no 'key'")]
    [InlineData("steps:\n  - key: a\n", 2, 5, "step 'a' has no 'run'")]
    [InlineData("steps:\n  - key: a b\n    run: a.sh\n", 2, 10, "key 'a b' must be 1 to 100 letters")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    concurrency: 2\n", 4, 18, "concurrency needs a concurrency_group")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    memory: 1g\n", 4, 13, "memory applies to a step run in a container; add 'image'")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    image: x\n    memory: lots\n", 5, 13, "memory 'lots' is not a size")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    retry: { automatic: { exit_status: 0 } }\n", 4, 40, "exit_status 0 is a success")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    retry: { automatic: { limit: 11 } }\n", 4, 34, "retry limit is '11'; expected a whole number from 0 to 10")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    env: { PLATFORM_BUILD: x }\n", 4, 12, "PLATFORM_ variables are reserved")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    env: { 1X: x }\n", 4, 12, "'1X' is not a variable name")]
    [InlineData("steps:\n  - key: a\n    run: a.sh\n    branches: \"main !\"\n", 4, 15, "'!' must be followed by a branch pattern")]
    [InlineData("steps: []\n", 1, 8, "'steps' is empty")]
    [InlineData("env: {}\n", 1, 1, "the pipeline has no 'steps'")]
    [InlineData("steps:\n  - key: a\n    run: [a.sh\n", 4, 0, "not valid YAML")]
    [InlineData("- a\n- b\n", 1, 1, "the pipeline must be a mapping")]
    public void A_pipeline_mistake_is_refused_with_file_line_column_and_reason(string yaml, int line, int column, string reason)
    {
        var e = Assert.Throws<PipelineException>(() => PipelineParser.Parse(yaml));

        Assert.Equal(".platform/pipeline.yml", e.File);
        Assert.Equal(line, e.Line);
        if (column > 0) Assert.Equal(column, e.Column);
        Assert.Contains(reason, e.Reason);
        Assert.StartsWith($".platform/pipeline.yml:{line}:", e.Message);
    }

    [Fact]
    public void A_dependency_cycle_is_refused_naming_the_cycle()
    {
        const string yaml = "steps:\n  - key: a\n    run: a.sh\n    depends_on: c\n  - key: b\n    run: b.sh\n    depends_on: a\n  - key: c\n    run: c.sh\n    depends_on: b\n";
        var e = Assert.Throws<PipelineException>(() => PipelineParser.Parse(yaml));

        Assert.Equal("depends_on makes a cycle: a → c → b → a", e.Reason);
        Assert.Equal(2, e.Line);
    }

    [Fact]
    public void A_step_that_names_a_file_not_in_the_repository_is_refused()
    {
        var files = new HashSet<string> { "scripts/build.sh" };
        const string yaml = "steps:\n  - key: a\n    run: scripts/build.sh\n  - key: b\n    run: scripts/missing.sh\n";

        var e = Assert.Throws<PipelineException>(() => PipelineParser.Parse(yaml, isRepositoryFile: files.Contains));

        Assert.Equal("step 'b': run 'scripts/missing.sh' is not a file of the repository at this commit", e.Reason);
        Assert.Equal(5, e.Line);
    }
}
