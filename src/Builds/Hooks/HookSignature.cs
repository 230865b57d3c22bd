using System.Security.Cryptography;
using System.Text;

namespace Platform.Builds.Hooks;

/// <summary>Checks a delivery against the repository's secret, in time that does not depend on where a guess goes wrong.</summary>
public static class HookSignature
{
    /// <summary>
    /// <c>X-Hub-Signature-256</c> (GitHub) or <c>X-Hub-Signature</c> (Bitbucket): <c>sha256=</c> and the hex HMAC-SHA256 of the raw body
    /// keyed with the secret.
    /// </summary>
    public static bool VerifyHmacSha256(string secret, ReadOnlySpan<byte> body, string? header)
    {
        const string prefix = "sha256=";
        if (header is null || !header.StartsWith(prefix, StringComparison.OrdinalIgnoreCase) || header.Length != prefix.Length + 64) return false;
        Span<byte> given = stackalloc byte[32];
        if (Convert.FromHexString(header.AsSpan(prefix.Length), given, out _, out var written) != System.Buffers.OperationStatus.Done || written != 32)
            return false;
        Span<byte> expected = stackalloc byte[32];
        HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body, expected);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>
    /// <c>X-Gitlab-Token</c>: the plain secret. Both sides are hashed first so the comparison takes the same time whatever
    /// the lengths.
    /// </summary>
    public static bool VerifyToken(string secret, string? header)
    {
        if (header is null) return false;
        Span<byte> expected = stackalloc byte[32];
        Span<byte> given = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), expected);
        SHA256.HashData(Encoding.UTF8.GetBytes(header), given);
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    /// <summary>The header value a sender puts on <paramref name="body"/>: for tests and for re-sending.</summary>
    public static string SignHmacSha256(string secret, ReadOnlySpan<byte> body) =>
        "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), body));
}
