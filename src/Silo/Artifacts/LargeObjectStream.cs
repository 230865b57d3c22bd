using Npgsql;
using NpgsqlTypes;

namespace Platform.Silo.Artifacts;

/// <summary>
/// A read-only, seekable stream over one PostgreSQL large object, read with <c>lo_get</c> a chunk at a time inside the
/// repeatable-read transaction that found it; disposing ends the transaction and returns the connection.
/// </summary>
internal sealed class LargeObjectStream : Stream
{
    private readonly NpgsqlConnection _connection;
    private readonly NpgsqlTransaction _transaction;
    private readonly NpgsqlCommand _get;
    private readonly NpgsqlParameter<long> _offset = new() { NpgsqlDbType = NpgsqlDbType.Bigint };
    private readonly NpgsqlParameter<int> _length = new() { NpgsqlDbType = NpgsqlDbType.Integer };
    private readonly int _chunkSize;
    private long _position;

    public LargeObjectStream(NpgsqlConnection connection, NpgsqlTransaction transaction, uint oid, long length, int chunkSize)
    {
        _connection = connection;
        _transaction = transaction;
        Length = length;
        _chunkSize = chunkSize;
        _get = new NpgsqlCommand("SELECT lo_get($1, $2, $3)", connection, transaction);
        _get.Parameters.Add(new NpgsqlParameter<uint> { NpgsqlDbType = NpgsqlDbType.Oid, TypedValue = oid });
        _get.Parameters.Add(_offset);
        _get.Parameters.Add(_length);
    }

    public override bool CanRead => true;
    public override bool CanSeek => true;
    public override bool CanWrite => false;
    public override long Length { get; }

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value));
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        var want = (int)Math.Min(Math.Min(buffer.Length, _chunkSize), Length - _position);
        if (want <= 0) return 0;
        _offset.TypedValue = _position;
        _length.TypedValue = want;
        var read = await PostgreSqlArtifactStore.Run(async () =>
        {
            await using var reader = await _get.ExecuteReaderAsync(System.Data.CommandBehavior.SequentialAccess, cancellationToken).ConfigureAwait(false);
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            await using var column = await reader.GetStreamAsync(0, cancellationToken).ConfigureAwait(false);
            var total = 0;
            int n;
            while (total < want && (n = await column.ReadAsync(buffer[total..want], cancellationToken).ConfigureAwait(false)) > 0) total += n;
            return total;
        }).ConfigureAwait(false);
        if (read == 0) throw new IOException($"large object ended at {_position} of {Length} bytes");
        _position += read;
        return read;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer, offset, count, CancellationToken.None).GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        _ => Length + offset,
    };

    public override void Flush()
    {
    }

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    public override async ValueTask DisposeAsync()
    {
        await _get.DisposeAsync().ConfigureAwait(false);
        await _transaction.DisposeAsync().ConfigureAwait(false);
        await _connection.DisposeAsync().ConfigureAwait(false);
        await base.DisposeAsync().ConfigureAwait(false);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _get.Dispose();
            _transaction.Dispose();
            _connection.Dispose();
        }
        base.Dispose(disposing);
    }
}
