using System.Buffers;
using System.Security.Cryptography;

namespace Platform.Silo.Artifacts;

/// <summary>The copy loop both stores share: reads a request body in chunks, hashes and counts it, stops past the size limit.</summary>
internal static class ArtifactUpload
{
    /// <summary>Copies <paramref name="body"/> to <paramref name="write"/>; returns the size and the lower-case hex SHA-256.</summary>
    public static async Task<(long Size, string Sha256)> CopyAsync(
        Stream body, long maxSize, int chunkSize, Func<ReadOnlyMemory<byte>, CancellationToken, ValueTask> write, CancellationToken cancellationToken)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var buffer = ArrayPool<byte>.Shared.Rent(chunkSize);
        try
        {
            long size = 0;
            while (true)
            {
                // Fill the chunk before writing it: fewer, larger writes (one round trip each on PostgreSQL).
                var filled = 0;
                int n;
                while (filled < chunkSize && (n = await body.ReadAsync(buffer.AsMemory(filled, chunkSize - filled), cancellationToken).ConfigureAwait(false)) > 0)
                    filled += n;
                if (filled == 0) break;
                size += filled;
                if (size > maxSize) throw TooLarge(maxSize);
                hash.AppendData(buffer, 0, filled);
                await write(buffer.AsMemory(0, filled), cancellationToken).ConfigureAwait(false);
                if (filled < chunkSize) break;
            }
            return (size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static ArtifactException TooLarge(long maxSize)
        => new(StatusCodes.Status413PayloadTooLarge, $"artifact is larger than the limit of {maxSize} bytes (Platform:Artifacts:MaxSize); nothing was stored");

    public static void CheckSha256(string? expected, string actual)
    {
        if (expected is not null && !string.Equals(expected, actual, StringComparison.Ordinal))
            throw new ArtifactException(StatusCodes.Status400BadRequest, $"SHA-256 of the body is {actual}, not {expected} as X-Checksum-Sha256 (or ?sha256=) says; nothing was stored");
    }
}
