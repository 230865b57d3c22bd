using System.Collections.Concurrent;
using System.Net.Sockets;
using Npgsql;

namespace Platform.Runtime.Tests.Support;

/// <summary>Test classes that need PostgreSQL join this collection and share one server.</summary>
[CollectionDefinition(Name)]
public sealed class PostgresCollection : ICollectionFixture<PostgresFixture>
{
    public const string Name = "PostgreSql";
}

/// <summary>
/// A PostgreSQL server for tests: the one named by PLATFORM_TEST_PG (an Npgsql connection string) when set,
/// otherwise a private server started here (initdb in a temp dir, loopback only, trust auth) and removed on dispose.
/// Each test class gets its own database from <see cref="DatabaseForAsync"/>. Missing binaries fail the tests.
/// </summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public const string EnvironmentVariable = "PLATFORM_TEST_PG";

    private readonly ConcurrentDictionary<string, Lazy<Task<string>>> _databases = new(StringComparer.Ordinal);
    private PrivatePostgresServer? _server;

    /// <summary>Connection string of the server's maintenance database (used to create test databases).</summary>
    public string AdminConnectionString { get; private set; } = "";

    public async Task InitializeAsync()
    {
        var external = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(external))
        {
            AdminConnectionString = external;
            await WaitUntilAcceptingAsync(TimeSpan.FromSeconds(30));
            return;
        }

        try
        {
            await StartPrivateServerAsync();
        }
        catch
        {
            await StopPrivateServerAsync();
            throw;
        }
    }

    /// <summary>A connection string to a fresh database that belongs to <paramref name="owner"/> (created on first request).</summary>
    public Task<string> DatabaseForAsync(string owner) =>
        _databases.GetOrAdd(owner, o => new Lazy<Task<string>>(() => CreateDatabaseAsync(o))).Value;

    public async Task DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        if (_server is not null)
        {
            await StopPrivateServerAsync();
            return;
        }

        // A shared server outlives the run: drop what this run created.
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        foreach (var database in _databases.Values)
        {
            if (database.IsValueCreated && database.Value.IsCompletedSuccessfully)
            {
                var name = new NpgsqlConnectionStringBuilder(database.Value.Result).Database;
                await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)", admin);
                await drop.ExecuteNonQueryAsync();
            }
        }
    }

    private async Task<string> CreateDatabaseAsync(string owner)
    {
        var prefix = new string([.. owner.ToLowerInvariant().Where(char.IsAsciiLetterOrDigit).Take(40)]);
        var name = $"t_{prefix}_{Guid.NewGuid():N}"[..Math.Min(63, prefix.Length + 3 + 12)];
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            await admin.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", admin);
            await create.ExecuteNonQueryAsync();
        }

        return new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name }.ConnectionString;
    }

    private async Task StartPrivateServerAsync()
    {
        _server = await PrivatePostgresServer.StartAsync();
        AdminConnectionString = _server.AdminConnectionString;
        await WaitUntilAcceptingAsync(TimeSpan.FromSeconds(30));
    }

    private async Task StopPrivateServerAsync()
    {
        if (_server is null)
        {
            return;
        }

        await _server.DisposeAsync();
        _server = null;
    }

    private async Task WaitUntilAcceptingAsync(TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                await using var connection = new NpgsqlConnection(AdminConnectionString);
                await connection.OpenAsync();
                await using var ping = new NpgsqlCommand("SELECT 1", connection);
                await ping.ExecuteScalarAsync();
                return;
            }
            catch (Exception e) when (e is NpgsqlException or SocketException && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }
            catch (Exception e) when (e is NpgsqlException or SocketException)
            {
                var where = new NpgsqlConnectionStringBuilder(AdminConnectionString);
                throw new InvalidOperationException($"PostgreSQL at {where.Host}:{where.Port} did not accept connections within {timeout.TotalSeconds:0} s: {e.Message}", e);
            }
        }
    }
}
