using System.Security.Cryptography;

namespace Platform.Silo.Access;

/// <summary>
/// Token secrets: <c>plt_</c>, a 16-hex-digit id that finds the token, <c>_</c>, and 32 random bytes (base64url). Only
/// the SHA-256 of the whole secret is stored; a high-entropy secret needs no slow hash.
/// </summary>
public static class TokenSecrets
{
    private const string Prefix = "plt_";
    private const int IdLength = 16;
    private const int RandomLength = 43; // 32 bytes, base64url without padding

    /// <summary>The length of every secret.</summary>
    public const int Length = 4 + IdLength + 1 + RandomLength;

    /// <summary>A new id and the secret that carries it.</summary>
    public static (string Id, string Secret) Create()
    {
        var id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(IdLength / 2));
        var random = Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
        return (id, $"{Prefix}{id}_{random}");
    }

    /// <summary>SHA-256 of the secret's UTF-8 bytes.</summary>
    public static byte[] Hash(string secret) => SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(secret));

    /// <summary>The id inside <paramref name="secret"/>, or false when it does not have the form of a secret.</summary>
    public static bool TryGetId(ReadOnlySpan<char> secret, out string id)
    {
        id = "";
        if (secret.Length != Length || !secret.StartsWith(Prefix, StringComparison.Ordinal) || secret[Prefix.Length + IdLength] != '_') return false;
        var idSpan = secret.Slice(Prefix.Length, IdLength);
        foreach (var c in idSpan)
        {
            if (!char.IsAsciiHexDigitLower(c) && !char.IsAsciiDigit(c)) return false;
        }
        foreach (var c in secret[(Prefix.Length + IdLength + 1)..])
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('-' or '_')) return false;
        }
        id = idSpan.ToString();
        return true;
    }

    /// <summary>Whether <paramref name="secret"/> hashes to <paramref name="hash"/>, in time that does not depend on where they differ.</summary>
    public static bool Matches(string secret, byte[] hash)
    {
        // Only the form TryGetId accepts (64 ASCII characters) fits the buffer below.
        if (!TryGetId(secret, out _)) return false;
        Span<byte> computed = stackalloc byte[32];
        Span<byte> utf8 = stackalloc byte[Length];
        var written = System.Text.Encoding.UTF8.GetBytes(secret, utf8);
        SHA256.HashData(utf8[..written], computed);
        return CryptographicOperations.FixedTimeEquals(computed, hash);
    }

    private static string Base64UrlEncode(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
