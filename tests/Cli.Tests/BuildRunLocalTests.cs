using System.Diagnostics;
using Platform.Builds.Tests.Support;
using Platform.Cli.Tests.Support;

namespace Platform.Cli.Tests;

/// <summary><c>platform build run-local</c> as the real binary, in a real git repository, with no silo anywhere.</summary>
public sealed class BuildRunLocalTests : IDisposable
{
    private readonly TestRepository _repo = new();

    public BuildRunLocalTests()
    {
        _repo.Write(".platform/pipeline.yml", """
            env: { GREETING: hello }
            steps:
              - key: test
                run: scripts/test.sh
                depends_on: build
              - key: build
                run: scripts/build.sh
                args: [--release]
                artifacts: [dist/app.txt]
              - key: deploy
                run: scripts/deploy.sh
                depends_on: test
            """)
            .Script("scripts/build.sh", """
                mkdir -p dist
                echo "$GREETING from $PLATFORM_STEP_KEY $1 build=$PLATFORM_BUILD_ID branch=$PLATFORM_BRANCH commit=$PLATFORM_COMMIT ci=$CI"
                echo built > dist/app.txt
                echo a warning >&2
                """)
            .Script("scripts/test.sh", "test -f dist/app.txt && echo tests pass")
            .Script("scripts/deploy.sh", "echo deploy refused; exit 7");
        Commit = _repo.Commit();
    }

    private string Commit { get; }

    public void Dispose() => _repo.Dispose();

    private async Task<(int ExitCode, string StdOut, string StdErr)> RunLocalAsync(params string[] args)
    {
        var start = PlatformCommand.StartInfo(["build", "run-local", .. args]);
        // From a subfolder: run-local finds the repository's top.
        start.WorkingDirectory = Path.Combine(_repo.Work, "scripts");
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException("platform build run-local did not end within 120 s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    [Fact]
    public async Task Run_local_runs_every_step_in_dependency_order_prefixed_and_fails_with_the_failing_step()
    {
        var (code, stdout, stderr) = await RunLocalAsync();

        Assert.True(code == 1, $"exit {code}; stdout:\n{stdout}\nstderr:\n{stderr}");
        var lines = stdout.Split('\n');
        Assert.Contains($"[build] hello from build --release build=local branch=main commit={Commit} ci=true", lines);
        Assert.Contains("[build] a warning", lines);
        Assert.Contains("[build] artifact (kept in the working tree, not uploaded): dist/app.txt", lines);
        Assert.Contains("[test] tests pass", lines);
        Assert.Contains("[deploy] deploy refused", lines);
        Assert.True(Array.FindIndex(lines, l => l.StartsWith("[build]", StringComparison.Ordinal)) < Array.FindIndex(lines, l => l.StartsWith("[test]", StringComparison.Ordinal)));
        Assert.True(Array.FindIndex(lines, l => l.StartsWith("[test]", StringComparison.Ordinal)) < Array.FindIndex(lines, l => l.StartsWith("[deploy]", StringComparison.Ordinal)));
        Assert.Equal(["build: passed (exit status 0)", "test: passed (exit status 0)", "deploy: failed (exit status 7)"], lines.Where(l => l.Contains(": passed") || l.Contains(": failed")).ToArray());
    }

    [Fact]
    public async Task Run_local_with_a_step_runs_only_that_step_unless_asked_for_its_dependencies()
    {
        var (code, stdout, stderr) = await RunLocalAsync("test");
        Assert.True(code == 1, $"without build first, dist/app.txt is missing: exit {code}\n{stdout}\n{stderr}");
        Assert.DoesNotContain("[build]", stdout);
        Assert.Contains("test: failed (exit status 1)", stdout);

        (code, stdout, stderr) = await RunLocalAsync("test", "--with-deps");
        Assert.True(code == 0, $"exit {code}\n{stdout}\n{stderr}");
        Assert.Contains("[build] hello from build --release", stdout);
        Assert.Contains("[test] tests pass", stdout);
        Assert.DoesNotContain("[deploy]", stdout);
    }

    [Fact]
    public async Task Run_local_names_an_unknown_step_and_a_pipeline_error_with_its_line()
    {
        var (code, _, stderr) = await RunLocalAsync("lint");
        Assert.Equal(2, code);
        Assert.Contains("Error: step 'lint' is not in .platform/pipeline.yml; its steps: test, build, deploy", stderr);

        _repo.Write(".platform/pipeline.yml", "steps:\n  - key: a\n    command: make\n");
        (code, _, stderr) = await RunLocalAsync();
        Assert.Equal(1, code);
        Assert.Contains(".platform/pipeline.yml:3:5: 'command' is not allowed", stderr);
    }
}
