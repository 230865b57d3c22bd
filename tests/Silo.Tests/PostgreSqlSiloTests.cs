using System.Net.Http.Json;
using Platform.Runtime.Tests.Support;
using Platform.Silo.Tests.Support;

namespace Platform.Silo.Tests;

[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlSiloTests(PostgresFixture postgres)
{
    [Fact]
    public async Task Silo_on_PostgreSQL_keeps_acknowledged_writes_across_SIGKILL()
    {
        var connection = await postgres.DatabaseForAsync(nameof(Silo_on_PostgreSQL_keeps_acknowledged_writes_across_SIGKILL));
        using var dir = new TempDir();
        string[] pg = ["--storage", "postgres", "--postgres", connection];
        await using (var silo = await SiloProcess.StartAsync(dir.Path, null, pg))
        {
            await Task.WhenAll(Enumerable.Range(0, 20).Select(async i =>
                (await silo.Http.PutAsync($"/test/ledger/pg{i % 4}/e{i}/{i}", null)).EnsureSuccessStatusCode()));
            await silo.KillAsync();
        }

        await using var restarted = await SiloProcess.StartAsync(dir.Path, null, pg);
        for (var k = 0; k < 4; k++)
        {
            var entries = (await restarted.Http.GetFromJsonAsync<Dictionary<string, long>>($"/test/ledger/pg{k}/"))!;
            Assert.Equal(5, entries.Count);
            foreach (var (entry, value) in entries) Assert.Equal(long.Parse(entry[1..]), value);
        }
    }
}
