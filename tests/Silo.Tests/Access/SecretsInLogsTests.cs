using System.Net.Http.Json;
using System.Security.Cryptography;
using Npgsql;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Builds;
using Platform.Silo.Tests.Etcd;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests.Access;

/// <summary>
/// A whole run of a silo on PostgreSQL with JSON logs at debug level: tokens, an agent, the CLI, etcdctl and signed hooks.
/// Then every secret it was given is searched for in everything the silo, the agent and the commands printed.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class SecretsInLogsTests(PostgresFixture postgres)
{
    private static string Random() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();

    [Fact]
    public async Task No_token_database_password_or_hook_secret_reaches_the_output_of_the_silo_the_agent_or_the_cli()
    {
        // The test server trusts loopback, so it takes any password: the silo is still handed one, as in production.
        var connection = new NpgsqlConnectionStringBuilder(await postgres.DatabaseForAsync(nameof(SecretsInLogsTests)));
        if (string.IsNullOrEmpty(connection.Password)) connection.Password = "pw" + Random();
        var hookSecret = "hook" + Random();
        var outputs = new Dictionary<string, string>();

        var access = new AccessSilo
        {
            SiloArguments = ["--storage", "postgres", "--postgres", connection.ConnectionString, "--log-format", "json", "--Logging:LogLevel:Default", "Debug"],
        };
        await access.InitializeAsync();
        try
        {
            var secrets = access.Secrets;
            secrets["the PostgreSQL password"] = connection.Password!;
            secrets["the hook secret"] = hookSecret;
            var agentToken = await access.CreateAsync("agent", ["agent"]);
            var cliToken = await access.CreateAsync("cli", ["nodes:read", "events:fire", "query"]);
            await access.CreateAsync("etcd", ["keys:write"]);

            // A hook secret registered, then deliveries: GitHub's signed with it, GitLab's carrying it, one with a wrong signature.
            using (var register = await access.SendAsync(HttpMethod.Put, "/v1/repos/team/app", access.Admin,
                       JsonContent.Create(new { cloneUrl = "git://127.0.0.1/team/app.git", secret = hookSecret })))
                Assert.True(register.IsSuccessStatusCode, await register.Content.ReadAsStringAsync());
            var (github, githubBody) = await BuildsHttp.SendAsync(access.Silo.Http, BuildsHttp.GitHubPush("team/app", "main", BuildsHttp.Commit, hookSecret));
            Assert.True(github == 200, githubBody.ToString());
            var (gitlab, gitlabBody) = await BuildsHttp.SendAsync(access.Silo.Http, BuildsHttp.GitLabPush("team/app", "main", "89abcdef0123456789abcdef0123456789abcdef", hookSecret));
            Assert.True(gitlab == 200, gitlabBody.ToString());
            var (forged, _) = await BuildsHttp.SendAsync(access.Silo.Http, BuildsHttp.GitHubPush("team/app", "main", BuildsHttp.Commit, "not-the-secret"));
            Assert.Equal(401, forged);

            // An agent joins with its token, at debug level.
            using var dir = new TempDir();
            await using var agent = PlatformCommand.Start(new Dictionary<string, string> { ["PLATFORM_TOKEN"] = "" },
                "agent", "-node", "web-1", "-server", access.Url.ToString(), "-data-dir", dir.Path, "-token", agentToken, "-log-level", "debug");
            var deadline = DateTime.UtcNow.AddSeconds(60);
            while (true)
            {
                using var node = await access.SendAsync(HttpMethod.Get, "/v1/nodes/web-1", cliToken);
                if (node.IsSuccessStatusCode && (await node.Content.ReadAsStringAsync()).Contains("\"status\":\"alive\"", StringComparison.Ordinal)) break;
                Assert.False(agent.Exited.IsCompleted, $"the agent exited: {agent.StdErr.Text}");
                Assert.True(DateTime.UtcNow < deadline, $"the agent never joined: {agent.StdErr.Text}");
                await Task.Delay(100);
            }

            // The CLI with its token in PLATFORM_TOKEN and with --token, a token made by the CLI, etcdctl with basic auth.
            async Task RunAsync(string name, Task<ProcessResult> run, int exitCode = 0)
            {
                var result = await run;
                Assert.True(result.ExitCode == exitCode, $"{name}: {result}");
                outputs[$"the output of '{name}'"] = result.StdOut;
                outputs[$"the errors of '{name}'"] = result.StdErr;
            }
            await RunAsync("platform members", access.PlatformAsync(cliToken, "members"));
            await RunAsync("platform event --token", access.PlatformAsync("", "event", "--token", cliToken, "deploy", "v1"));
            await RunAsync("platform query", access.PlatformAsync(cliToken, "query", "-timeout", "2s", "uptime"));
            await RunAsync("platform token list", access.PlatformAsync(access.Admin, "token", "list"));
            await RunAsync("platform members (refused)", access.PlatformAsync(agentToken, "members"), exitCode: 1);
            var created = await access.PlatformAsync(access.Admin, "token", "create", "-name", "cli-made", "-scope", "nodes:read");
            Assert.True(created.ExitCode == 0, created.ToString());
            // Its output is the one place the new secret is meant to be printed.
            secrets["token 'cli-made'"] = created.StdOut.Split('\n').Single(l => l.StartsWith("secret:", StringComparison.Ordinal))["secret:".Length..].Trim();
            outputs["the errors of 'platform token create'"] = created.StdErr;
            await RunAsync("etcdctl set", access.EtcdctlAsync($"etcd:{secrets["token 'etcd'"]}", "set", "/secret-test", "x"));

            var agentResult = await agent.InterruptAsync();
            outputs["the agent's output"] = agentResult.StdOut;
            outputs["the agent's errors"] = agentResult.StdErr;
            Assert.Contains("agent: connected to", agentResult.StdErr);
        }
        finally
        {
            Assert.Equal(0, await access.Silo.TerminateAsync(TimeSpan.FromSeconds(60)));
            outputs["the silo's output"] = access.Silo.Output;
            await access.DisposeAsync();
        }

        // The run did log, as JSON, and at debug level.
        Assert.Contains("\"LogLevel\":\"Debug\"", outputs["the silo's output"]);
        SecretScan.AssertAbsent(access.Secrets, outputs);
    }
}
