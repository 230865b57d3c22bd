using System.Security.Cryptography;

namespace Platform.Agent.Deploy;

/// <summary>The hash a manifest's checksum asks for, chosen as Stretcher does by the length of its hex digest.</summary>
public static class ChecksumAlgorithm
{
    /// <summary>md5 for 32 hex digits, sha1 for 40, sha256 for 64, sha512 for 128; null for any other length.</summary>
    public static HashAlgorithmName? ForHexLength(int length) => length switch
    {
        32 => HashAlgorithmName.MD5,
        40 => HashAlgorithmName.SHA1,
        64 => HashAlgorithmName.SHA256,
        128 => HashAlgorithmName.SHA512,
        _ => null,
    };
}
