using Platform.Runtime.PostgreSql;
using Platform.Runtime.Storage;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Storage;

/// <summary>The storage contract against PostgreSQL, in a database of this class's own.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlGrainStorageTests(PostgresFixture postgres) : GrainStorageContract
{
    private Task<string> ConnectionStringAsync() => postgres.DatabaseForAsync(nameof(PostgreSqlGrainStorageTests));

    protected override async Task<IGrainStorage> CreateStorageAsync() =>
        new PostgreSqlGrainStorage(new PostgreSqlStorageOptions { ConnectionString = await ConnectionStringAsync() });

    [Fact]
    public async Task A_fresh_provider_on_the_same_database_reads_what_the_first_wrote()
    {
        var eTag = await Storage.WriteAsync("counter", Key("durable"), "state", Bytes("kept"), null);
        await DisposeStorageAsync(Storage);

        await using var reopened = new PostgreSqlGrainStorage(new PostgreSqlStorageOptions { ConnectionString = await ConnectionStringAsync() });
        var stored = await reopened.ReadAsync("counter", Key("durable"), "state");

        Assert.Equal("kept", Text(stored));
        Assert.Equal(eTag, stored!.Value.ETag);
    }

    [Fact]
    public async Task Concurrent_writes_share_transactions()
    {
        var storage = (PostgreSqlGrainStorage)Storage;
        const int writers = 200;

        await Task.WhenAll(Enumerable.Range(0, writers).Select(i => storage.WriteAsync("counter", Key($"group-{i}"), "state", Bytes("x"), null)));

        Assert.InRange(storage.Commits, 1, writers - 1);
    }

    [Fact]
    public async Task A_write_the_server_rejects_fails_alone_and_names_the_server()
    {
        // PostgreSQL text cannot hold NUL: that statement errors, which aborts its batch's transaction.
        var good = Enumerable.Range(0, 30).Select(i => Storage.WriteAsync("counter", Key($"batch-{i}"), "state", Bytes($"v{i}"), null)).ToList();
        var bad = Storage.WriteAsync("counter", Key("nul\0key"), "state", Bytes("x"), null);
        good.AddRange(Enumerable.Range(30, 30).Select(i => Storage.WriteAsync("counter", Key($"batch-{i}"), "state", Bytes($"v{i}"), null)));

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => bad);
        Assert.Contains("127.0.0.1", error.Message);
        Assert.Contains($"writing grain counter/{Key("nul\0key")}", error.Message);
        await Task.WhenAll(good);
        for (var i = 0; i < 60; i++)
        {
            Assert.Equal($"v{i}", Text(await Storage.ReadAsync("counter", Key($"batch-{i}"), "state")));
        }
    }
}

/// <summary>What a caller sees when PostgreSQL cannot be reached; needs no server.</summary>
public sealed class PostgreSqlConnectionFailureTests
{
    [Fact]
    public async Task Connection_failure_names_host_and_port_to_the_log_never_the_password_and_tells_the_caller_storage_is_unavailable()
    {
        var port = ClosedLoopbackPort();
        await using var storage = new PostgreSqlGrainStorage(new PostgreSqlStorageOptions
        {
            ConnectionString = $"Host=127.0.0.1;Port={port};Username=platform;Password=hunter2-secret;Timeout=5",
        });

        var read = await Assert.ThrowsAsync<PostgreSqlConnectionException>(() => storage.ReadAsync("counter", "k", "state"));
        var write = await Assert.ThrowsAsync<PostgreSqlConnectionException>(() => storage.WriteAsync("counter", "k", "state", new byte[] { 1 }, null));

        foreach (var error in new[] { read, write })
        {
            // The server is named for the log; a client is told only that storage is unavailable.
            Assert.Contains($"127.0.0.1:{port}", error.Detail);
            Assert.Equal("storage unavailable, retry later", error.Message);
            Assert.DoesNotContain("hunter2-secret", error.ToString());
        }
    }

    [Fact]
    public void Empty_connection_string_is_rejected_naming_the_option()
    {
        var error = Assert.Throws<ArgumentException>(() => new PostgreSqlGrainStorage(new PostgreSqlStorageOptions()));

        Assert.Contains("PostgreSqlStorageOptions.ConnectionString", error.Message);
    }

    private static int ClosedLoopbackPort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }
}
