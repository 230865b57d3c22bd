using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;
using Xunit.Abstractions;

namespace Platform.Silo.Tests.Access;

/// <summary>The bootstrap token of a cluster whose silos all start at once with --bootstrap: one token, printed once.</summary>
[Collection(PostgresCollection.Name)]
public sealed partial class BootstrapClusterTests(PostgresFixture postgres, ITestOutputHelper output)
{
    [Fact]
    public async Task Three_silos_started_together_with_bootstrap_make_one_admin_token_printed_by_one_of_them()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Three_silos_started_together_with_bootstrap_make_one_admin_token_printed_by_one_of_them));
        await using var cluster = new SiloClusterProcesses(connection, 3, output, extraArgs: _ => ["--bootstrap"]);
        await cluster.StartAllAsync();

        var printed = Enumerable.Range(0, 3).SelectMany(i => Printed().Matches(cluster[i].Output).Select(m => (Silo: i, Secret: m.Groups[1].Value))).ToList();
        var (silo, secret) = Assert.Single(printed);

        // The one token works through every silo (each holds a copy of the tokens), not only the one that printed it.
        for (var i = 0; i < 3; i++)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (true)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/access/tokens");
                request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
                using var listed = await cluster.Client(i).SendAsync(request);
                var body = await listed.Content.ReadAsStringAsync();
                if (listed.IsSuccessStatusCode)
                {
                    Assert.Single(System.Text.Json.JsonDocument.Parse(body).RootElement.EnumerateArray());
                    break;
                }
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"silo {i} refuses the token silo {silo} printed: {body}");
                await Task.Delay(50);
            }
        }
        cluster.Passed = true;
    }

    [GeneratedRegex(@"bootstrap token \(scope admin; shown this once, keep it safe\): (plt_\S+)")]
    private static partial Regex Printed();
}
