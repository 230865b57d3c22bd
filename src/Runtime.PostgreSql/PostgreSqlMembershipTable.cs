using System.Buffers;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Npgsql;
using NpgsqlTypes;
using Platform.Runtime.Membership;

namespace Platform.Runtime.PostgreSql;

/// <summary>
/// The membership table in PostgreSQL (tables <c>membership_version</c> and <c>membership_members</c>, created on first
/// use, keyed by cluster id). Each change runs in one transaction: a conditional update of the version row (its ETag
/// must be the one read), then the conditional insert or update of the silo's row; either failing rolls both back.
/// </summary>
public sealed class PostgreSqlMembershipTable : IMembershipTable, IAsyncDisposable, IDisposable
{
    // The same advisory lock as the storage schema: both create platform_etag_seq, and concurrent
    // CREATE ... IF NOT EXISTS can still collide in the catalog when several silos start at once.
    private const string Schema = """
        SELECT pg_advisory_xact_lock(7310615524112049);
        CREATE SEQUENCE IF NOT EXISTS platform_etag_seq;
        CREATE TABLE IF NOT EXISTS membership_version (
            cluster_id text    NOT NULL PRIMARY KEY,
            version    integer NOT NULL,
            etag       bigint  NOT NULL);
        CREATE TABLE IF NOT EXISTS membership_members (
            cluster_id    text        NOT NULL,
            address       text        NOT NULL,
            generation    bigint      NOT NULL,
            name          text        NOT NULL,
            status        text        NOT NULL,
            http_url      text        NULL,
            start_time    timestamptz NOT NULL,
            iamalive_time timestamptz NOT NULL,
            suspicions    jsonb       NOT NULL,
            etag          bigint      NOT NULL,
            PRIMARY KEY (cluster_id, address, generation));
        """;

    private const string InsertVersionRow = """
        INSERT INTO membership_version (cluster_id, version, etag) VALUES ($1, 0, nextval('platform_etag_seq'))
        ON CONFLICT (cluster_id) DO NOTHING
        """;

    // One statement, so the version and the rows come from one snapshot.
    private const string SelectAll = """
        SELECT v.version, v.etag, m.address, m.generation, m.name, m.status, m.http_url, m.start_time, m.iamalive_time, m.suspicions::text, m.etag
        FROM membership_version v LEFT JOIN membership_members m ON m.cluster_id = v.cluster_id
        WHERE v.cluster_id = $1
        ORDER BY m.address COLLATE "C", m.generation
        """;

    // The version CAS: a concurrent writer holding the row lock makes this wait, then re-check the ETag against its commit.
    private const string BumpVersion = """
        UPDATE membership_version SET version = $2, etag = nextval('platform_etag_seq')
        WHERE cluster_id = $1 AND etag = $3 AND version = $2 - 1
        """;

    private const string InsertMember = """
        INSERT INTO membership_members (cluster_id, address, generation, name, status, http_url, start_time, iamalive_time, suspicions, etag)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, nextval('platform_etag_seq'))
        ON CONFLICT (cluster_id, address, generation) DO NOTHING
        """;

    private const string UpdateMember = """
        UPDATE membership_members SET name = $4, status = $5, http_url = $6, start_time = $7, iamalive_time = $8, suspicions = $9, etag = nextval('platform_etag_seq')
        WHERE cluster_id = $1 AND address = $2 AND generation = $3 AND etag = $10
        """;

    // The row keeps its ETag: a heartbeat must not make a concurrent suspicion or status write fail.
    private const string UpdateIAmAlive = """
        UPDATE membership_members SET iamalive_time = $4 WHERE cluster_id = $1 AND address = $2 AND generation = $3
        """;

    private const string DeleteDefunct = """
        DELETE FROM membership_members WHERE cluster_id = $1 AND status = 'Dead' AND iamalive_time < $2
        """;

    private readonly PostgreSqlConnector _connector;

    /// <summary>Creates the table of <paramref name="clusterId"/>; nothing connects until first use.</summary>
    public PostgreSqlMembershipTable(PostgreSqlStorageOptions options, string clusterId)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(clusterId);
        ClusterId = clusterId;
        _connector = new PostgreSqlConnector(options, "PostgreSQL membership table", $"membership_version, membership_members for cluster '{clusterId}'", CreateSchemaAsync);
    }

    /// <summary>The cluster whose rows this instance reads and writes.</summary>
    public string ClusterId { get; }

    /// <summary>Host, port and database, for messages; never the password.</summary>
    public string Endpoint => _connector.Endpoint;

    /// <inheritdoc />
    public async Task InitializeAsync(CancellationToken cancellationToken = default)
    {
        await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public async Task<MembershipTableSnapshot> ReadAllAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(SelectAll, connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ClusterId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            _connector.Succeeded();
            TableVersion? version = null;
            var rows = new List<(MembershipEntry Entry, string ETag)>();
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                version ??= new TableVersion(reader.GetInt32(0), FormatETag(reader.GetInt64(1)));
                if (!reader.IsDBNull(2))
                {
                    rows.Add(ReadMember(reader));
                }
            }

            return new MembershipTableSnapshot(rows, version ?? throw new InvalidOperationException(
                $"PostgreSQL membership table at {Endpoint} has no version row for cluster '{ClusterId}'; it is created by InitializeAsync."));
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw Failure($"reading the membership of cluster '{ClusterId}'", e);
        }
    }

    /// <inheritdoc />
    public Task<bool> InsertRowAsync(MembershipEntry entry, TableVersion newVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(newVersion);
        return ChangeAsync(entry, null, newVersion, $"inserting the row of silo {entry.Silo}", cancellationToken);
    }

    /// <inheritdoc />
    public Task<bool> UpdateRowAsync(MembershipEntry entry, string etag, TableVersion newVersion, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ArgumentNullException.ThrowIfNull(etag);
        ArgumentNullException.ThrowIfNull(newVersion);

        // Every ETag this table hands out is an integer; anything else cannot match a row.
        if (!TryParseETag(etag, out var rowETag))
        {
            return Task.FromResult(false);
        }

        return ChangeAsync(entry, rowETag, newVersion, $"updating the row of silo {entry.Silo}", cancellationToken);
    }

    /// <inheritdoc />
    public async Task UpdateIAmAliveAsync(SiloAddress silo, DateTimeOffset iAmAliveTime, CancellationToken cancellationToken = default)
    {
        int updated;
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(UpdateIAmAlive, connection);
            AddSilo(command.Parameters, silo);
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = iAmAliveTime.ToUniversalTime() });
            updated = await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw Failure($"writing I-am-alive of silo {silo}", e);
        }

        if (updated == 0)
        {
            throw new InvalidOperationException(
                $"PostgreSQL membership table at {Endpoint} has no row for silo {silo} in cluster '{ClusterId}'; it must insert its row before writing I-am-alive.");
        }
    }

    /// <inheritdoc />
    public async Task<int> CleanupDefunctEntriesAsync(DateTimeOffset olderThan, CancellationToken cancellationToken = default)
    {
        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var command = new NpgsqlCommand(DeleteDefunct, connection);
            command.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ClusterId });
            command.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = olderThan.ToUniversalTime() });
            return await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw Failure($"removing Dead rows of cluster '{ClusterId}' older than {olderThan:O}", e);
        }
    }

    /// <summary>Closes the connection pool.</summary>
    public async ValueTask DisposeAsync()
    {
        await _connector.DisposeAsync().ConfigureAwait(false);
    }

    /// <summary>Blocking form of <see cref="DisposeAsync"/>, for containers disposed synchronously.</summary>
    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();

    /// <summary>Both compare-and-swaps in one transaction; a row ETag of null means insert.</summary>
    private async Task<bool> ChangeAsync(MembershipEntry entry, long? rowETag, TableVersion newVersion, string operation, CancellationToken cancellationToken)
    {
        if (!TryParseETag(newVersion.ETag, out var versionETag))
        {
            return false;
        }

        try
        {
            await using var connection = await OpenAsync(cancellationToken).ConfigureAwait(false);
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);

            await using (var bump = new NpgsqlCommand(BumpVersion, connection, transaction))
            {
                bump.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ClusterId });
                bump.Parameters.Add(new NpgsqlParameter<int> { TypedValue = newVersion.Version });
                bump.Parameters.Add(new NpgsqlParameter<long> { TypedValue = versionETag });
                if (await bump.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return false;
                }
            }

            await using (var write = new NpgsqlCommand(rowETag is null ? InsertMember : UpdateMember, connection, transaction))
            {
                AddSilo(write.Parameters, entry.Silo);
                write.Parameters.Add(new NpgsqlParameter<string> { TypedValue = entry.SiloName });
                write.Parameters.Add(new NpgsqlParameter<string> { TypedValue = FormatStatus(entry.Status) });
                write.Parameters.Add(new NpgsqlParameter { Value = (object?)entry.HttpUrl ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
                write.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = entry.StartTime.ToUniversalTime() });
                write.Parameters.Add(new NpgsqlParameter<DateTimeOffset> { TypedValue = entry.IAmAliveTime.ToUniversalTime() });
                write.Parameters.Add(new NpgsqlParameter<string> { TypedValue = FormatSuspicions(entry.Suspicions), NpgsqlDbType = NpgsqlDbType.Jsonb });
                if (rowETag is { } expected)
                {
                    write.Parameters.Add(new NpgsqlParameter<long> { TypedValue = expected });
                }

                if (await write.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false) != 1)
                {
                    await transaction.RollbackAsync(cancellationToken).ConfigureAwait(false);
                    return false;
                }
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (e is NpgsqlException or IOException or TimeoutException)
        {
            throw Failure($"{operation} in cluster '{ClusterId}' (outcome unknown if the connection dropped during commit)", e);
        }
    }

    private ValueTask<NpgsqlConnection> OpenAsync(CancellationToken cancellationToken) => _connector.OpenAsync(cancellationToken);

    private async Task CreateSchemaAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, CancellationToken cancellationToken)
    {
        await using (var schema = new NpgsqlCommand(Schema, connection, transaction))
        {
            await schema.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await using var versionRow = new NpgsqlCommand(InsertVersionRow, connection, transaction);
        versionRow.Parameters.Add(new NpgsqlParameter<string> { TypedValue = ClusterId });
        await versionRow.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Wraps a failure so the message names the server and what was being done.</summary>
    private Exception Failure(string operation, Exception error) => _connector.Failure(operation, error);

    private static (MembershipEntry Entry, string ETag) ReadMember(NpgsqlDataReader reader)
    {
        var endpoint = reader.GetString(2);
        var silo = SiloAddress.Parse($"{endpoint}@{reader.GetInt64(3).ToString(CultureInfo.InvariantCulture)}");
        var entry = new MembershipEntry(
            silo,
            reader.GetString(4),
            ParseStatus(reader.GetString(5), silo),
            reader.IsDBNull(6) ? null : reader.GetString(6),
            reader.GetFieldValue<DateTimeOffset>(7),
            reader.GetFieldValue<DateTimeOffset>(8),
            ParseSuspicions(reader.GetString(9), silo));
        return (entry, FormatETag(reader.GetInt64(10)));
    }

    private void AddSilo(NpgsqlParameterCollection parameters, SiloAddress silo)
    {
        parameters.Add(new NpgsqlParameter<string> { TypedValue = ClusterId });
        parameters.Add(new NpgsqlParameter<string> { TypedValue = silo.Endpoint });
        parameters.Add(new NpgsqlParameter<long> { TypedValue = silo.Generation });
    }

    private static string FormatStatus(SiloStatus status) => status switch
    {
        SiloStatus.None => "None",
        SiloStatus.Joining => "Joining",
        SiloStatus.Active => "Active",
        SiloStatus.ShuttingDown => "ShuttingDown",
        SiloStatus.Dead => "Dead",
        _ => throw new ArgumentOutOfRangeException(nameof(status), $"{(int)status} is not a silo status."),
    };

    private static SiloStatus ParseStatus(string text, SiloAddress silo) => text switch
    {
        "None" => SiloStatus.None,
        "Joining" => SiloStatus.Joining,
        "Active" => SiloStatus.Active,
        "ShuttingDown" => SiloStatus.ShuttingDown,
        "Dead" => SiloStatus.Dead,
        _ => throw new InvalidOperationException($"Membership row of silo {silo} has status '{text}'; expected Joining, Active, ShuttingDown or Dead."),
    };

    // Suspicions are a JSON array of {"silo": "host:port@generation", "time": ISO 8601}, readable in psql.
    private static string FormatSuspicions(IReadOnlyList<SuspectVote> suspicions)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartArray();
            foreach (var vote in suspicions)
            {
                json.WriteStartObject();
                json.WriteString("silo", vote.Suspecter.ToString());
                json.WriteString("time", vote.Time.ToUniversalTime());
                json.WriteEndObject();
            }

            json.WriteEndArray();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static SuspectVote[] ParseSuspicions(string text, SiloAddress silo)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            var votes = new List<SuspectVote>();
            foreach (var vote in document.RootElement.EnumerateArray())
            {
                votes.Add(new SuspectVote(SiloAddress.Parse(vote.GetProperty("silo").GetString()!), vote.GetProperty("time").GetDateTimeOffset()));
            }

            return [.. votes];
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or KeyNotFoundException or FormatException)
        {
            throw new InvalidOperationException($"Membership row of silo {silo} has unreadable suspicions '{text}': {e.Message}", e);
        }
    }

    private static bool TryParseETag(string eTag, out long value) =>
        long.TryParse(eTag, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    private static string FormatETag(long eTag) => eTag.ToString(CultureInfo.InvariantCulture);
}
