using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using Platform.Runtime.PostgreSql;
using Platform.Runtime.Storage;
using Platform.Runtime.Tests.Support;

namespace Platform.Runtime.Tests.Storage;

/// <summary>
/// The journal contracts against PostgreSQL, in a database that belongs to this class; the contended-open test
/// runs two provider instances (two silos) against it.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgreSqlGrainJournalTests : DurableGrainJournalContract
{
    private readonly PostgresFixture _postgres;
    private string? _connectionString;

    public PostgreSqlGrainJournalTests(PostgresFixture postgres) => _postgres = postgres;

    public override async Task InitializeAsync()
    {
        _connectionString = await _postgres.DatabaseForAsync(nameof(PostgreSqlGrainJournalTests));
        await base.InitializeAsync();
    }

    private PostgreSqlStorageOptions Options => new() { ConnectionString = _connectionString! };

    protected override Task<IGrainJournal> CreateJournalAsync() => Task.FromResult<IGrainJournal>(new PostgreSqlGrainJournal(Options));

    protected override long CommitsOf(IGrainJournal journal) => ((PostgreSqlGrainJournal)journal).Commits;

    protected override void Register(IServiceCollection services) => services.AddPostgreSqlGrainJournal(o => o.ConnectionString = _connectionString!);

    protected override async Task<object?> ExecuteAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }
}
